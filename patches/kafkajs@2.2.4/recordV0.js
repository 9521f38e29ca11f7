// Continuum patch (patches/apply.mjs): kafkajs 2.2.4 wrote every record's timestampDelta as a
// varlong through its Long class (a dozen Long operations a record). For a delta in the int32
// range a varlong has the bytes of a varint (zigzag64 of an int32 is zigzag32 read unsigned), so
// those go through the plain-number varint instead; others as before. Producers that set record
// timestamps (the telemetry SDK: the event time) spent 15 % of their CPU in Long here.
// Also: the record is written into one encoder of its exact size (kafkajs started at 512 bytes
// and grew), and its headers in place (kafkajs made an encoder per header and copied each in).
const Encoder = require('../../../encoder')

/**
 * v0
 * Record =>
 *   Length => Varint
 *   Attributes => Int8
 *   TimestampDelta => Varlong
 *   OffsetDelta => Varint
 *   Key => varInt|Bytes
 *   Value => varInt|Bytes
 *   Headers => [HeaderKey HeaderValue]
 *     HeaderKey => VarInt|String
 *     HeaderValue => VarInt|Bytes
 */

/**
 * @param [offsetDelta=0] {Integer}
 * @param [timestampDelta=0] {Long}
 * @param key {Buffer}
 * @param value {Buffer}
 * @param [headers={}] {Object}
 */
module.exports = ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
  const headersArray = Object.keys(headers).flatMap(headerKey =>
    !Array.isArray(headers[headerKey])
      ? [{ key: headerKey, value: headers[headerKey] }]
      : headers[headerKey].map(headerValue => ({ key: headerKey, value: headerValue }))
  )

  const sizeOfBody =
    1 + // always one byte for attributes
    sizeOfTimestampDelta(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    sizeOfHeaders(headersArray)

  const encoder = new Encoder(Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody)
    .writeVarInt(sizeOfBody)
    .writeInt8(0) // no used record attributes at the moment
  if (isInt32(timestampDelta)) encoder.writeVarInt(timestampDelta)
  else encoder.writeVarLong(timestampDelta)
  encoder
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarInt(headersArray.length)
  // Header => Key (varint string), Value (varint bytes): header/v0, without its own encoder.
  for (const header of headersArray) encoder.writeVarIntString(header.key).writeVarIntBytes(header.value)
  return encoder
}

const isInt32 = value => typeof value === 'number' && (value | 0) === value

const sizeOfTimestampDelta = value =>
  isInt32(value) ? Encoder.sizeOfVarInt(value) : Encoder.sizeOfVarLong(value)

const sizeOfHeaders = headersArray => {
  let size = Encoder.sizeOfVarInt(headersArray.length)

  for (const header of headersArray) {
    const keySize = Buffer.byteLength(header.key)
    const valueSize = Buffer.byteLength(header.value)

    size += Encoder.sizeOfVarInt(keySize) + keySize

    if (header.value === null) {
      size += Encoder.sizeOfVarInt(-1)
    } else {
      size += Encoder.sizeOfVarInt(valueSize) + valueSize
    }
  }

  return size
}
