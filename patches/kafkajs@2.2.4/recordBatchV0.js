// Continuum patch (patches/apply.mjs): kafkajs 2.2.4 wrote a batch's body into one growing
// encoder, copied it behind the CRC into a second and that behind the offset and length into a
// third (each growing by doubling, copying again). The batch is now one encoder, sized from its
// records up front; the CRC and the length are written in place once the body is there. Same
// bytes (patches/patches.test.ts).
const Long = require('../../../utils/long')
const Encoder = require('../../encoder')
const crc32C = require('../crc32C')
const {
  Types: Compression,
  lookupCodec,
  COMPRESSION_CODEC_MASK,
} = require('../../message/compression')

const MAGIC_BYTE = 2
const TIMESTAMP_MASK = 0 // The fourth lowest bit, always set this bit to 0 (since 0.10.0)
const TRANSACTIONAL_MASK = 16 // The fifth lowest bit

// FirstOffset, Length, PartitionLeaderEpoch, Magic, CRC: the part before the CRC's coverage.
const CRC_OFFSET = 8 + 4 + 4 + 1
const BODY_OFFSET = CRC_OFFSET + 4
// Attributes … FirstSequence, and the records' count.
const BODY_HEADER_SIZE = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4

/**
 * v0
 * RecordBatch =>
 *  FirstOffset => int64
 *  Length => int32
 *  PartitionLeaderEpoch => int32
 *  Magic => int8
 *  CRC => int32
 *  Attributes => int16
 *  LastOffsetDelta => int32
 *  FirstTimestamp => int64
 *  MaxTimestamp => int64
 *  ProducerId => int64
 *  ProducerEpoch => int16
 *  FirstSequence => int32
 *  Records => [Record]
 */

const RecordBatch = async ({
  compression = Compression.None,
  firstOffset = Long.fromInt(0),
  firstTimestamp = Date.now(),
  maxTimestamp = Date.now(),
  partitionLeaderEpoch = 0,
  lastOffsetDelta = 0,
  transactional = false,
  producerId = Long.fromValue(-1), // for idempotent messages
  producerEpoch = 0, // for idempotent messages
  firstSequence = 0, // for idempotent messages
  records = [],
}) => {
  const COMPRESSION_CODEC = compression & COMPRESSION_CODEC_MASK
  const IN_TRANSACTION = transactional ? TRANSACTIONAL_MASK : 0
  const attributes = COMPRESSION_CODEC | TIMESTAMP_MASK | IN_TRANSACTION

  const compressedRecords =
    compression === Compression.None ? undefined : await compressRecords(compression, records)
  const recordsSize =
    compressedRecords === undefined ? sizeOfRecords(records) : compressedRecords.length

  const batch = new Encoder(BODY_OFFSET + BODY_HEADER_SIZE + recordsSize)
    .writeInt64(firstOffset)
    .writeInt32(0) // Length, written below
    .writeInt32(partitionLeaderEpoch)
    .writeInt8(MAGIC_BYTE)
    .writeUInt32(0) // CRC, written below
    .writeInt16(attributes)
    .writeInt32(lastOffsetDelta)
    .writeInt64(firstTimestamp)
    .writeInt64(maxTimestamp)
    .writeInt64(producerId)
    .writeInt16(producerEpoch)
    .writeInt32(firstSequence)

  if (compressedRecords === undefined) {
    if (records.every(v => typeof v === typeof records[0])) {
      batch.writeArray(records, typeof records[0])
    } else {
      batch.writeArray(records)
    }
  } else {
    batch.writeInt32(records.length).writeBuffer(compressedRecords)
  }

  // CRC32C validation is happening here:
  // https://github.com/apache/kafka/blob/0.11.0.1/clients/src/main/java/org/apache/kafka/common/record/DefaultRecordBatch.java#L148
  batch.buf.writeUInt32BE(crc32C(batch.buf.subarray(BODY_OFFSET, batch.offset)), CRC_OFFSET)
  batch.buf.writeInt32BE(batch.offset - 12, 8)
  return batch
}

/** The bytes the records take in the batch (a guess where they are not encoders: it grows). */
const sizeOfRecords = records => {
  let size = 0
  for (const record of records) size += record && typeof record.size === 'function' ? record.size() : 0
  return size
}

const compressRecords = async (compression, records) => {
  const codec = lookupCodec(compression)
  const recordsEncoder = new Encoder(sizeOfRecords(records))

  recordsEncoder.writeEncoderArray(records)

  return codec.compress(recordsEncoder)
}

module.exports = {
  RecordBatch,
  MAGIC_BYTE,
}
