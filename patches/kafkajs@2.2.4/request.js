// Continuum patch (patches/apply.mjs): kafkajs 2.2.4 copied every request's payload behind its
// header into one growing encoder, and that behind the size into another. Now one copy into an
// encoder of the request's size. Same bytes (patches/patches.test.ts).
const Encoder = require('./encoder')

module.exports = async ({ correlationId, clientId, request: { apiKey, apiVersion, encode } }) => {
  const payload = await encode()
  const size =
    2 + 2 + 4 + (clientId == null ? 2 : 2 + Buffer.byteLength(clientId, 'utf8')) + payload.size()

  return new Encoder(4 + size)
    .writeInt32(size)
    .writeInt16(apiKey)
    .writeInt16(apiVersion)
    .writeInt32(correlationId)
    .writeString(clientId)
    .writeEncoder(payload)
}
