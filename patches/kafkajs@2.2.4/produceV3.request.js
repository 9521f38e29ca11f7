// Continuum patch (patches/apply.mjs): kafkajs 2.2.4 copied each partition's record batch into
// a partition encoder, that into a topic encoder and that into the request's, every one of them
// growing by doubling (copying again) from 512 bytes. The batches are encoded first and then
// copied once, into one encoder of the request's size. Same bytes (patches/patches.test.ts).
const Long = require('../../../../utils/long')
const Encoder = require('../../../encoder')
const { Produce: apiKey } = require('../../apiKeys')
const { Types } = require('../../../message/compression')
const Record = require('../../../recordBatch/record/v0')
const { RecordBatch } = require('../../../recordBatch/v0')

/**
 * Produce Request (Version: 3) => transactional_id acks timeout [topic_data]
 *   transactional_id => NULLABLE_STRING
 *   acks => INT16
 *   timeout => INT32
 *   topic_data => topic [data]
 *     topic => STRING
 *     data => partition record_set
 *       partition => INT32
 *       record_set => RECORDS
 */

/**
 * @param [transactionalId=null] {String} The transactional id or null if the producer is not transactional
 * @param acks {Integer} See producer request v0
 * @param timeout {Integer} See producer request v0
 * @param [compression=CompressionTypes.None] {CompressionTypes}
 * @param topicData {Array}
 */
module.exports = ({
  acks,
  timeout,
  transactionalId = null,
  producerId = Long.fromInt(-1),
  producerEpoch = 0,
  compression = Types.None,
  topicData,
}) => ({
  apiKey,
  apiVersion: 3,
  apiName: 'Produce',
  expectResponse: () => acks !== 0,
  encode: async () => {
    const encodedTopicData = []
    let size = sizeOfString(transactionalId) + 2 + 4 + 4

    for (const { topic, partitions } of topicData) {
      const encodedPartitions = []
      size += sizeOfString(topic) + 4
      for (const data of partitions) {
        const recordBatch = await encodeRecordBatch({
          ...data,
          compression,
          transactionalId,
          producerId,
          producerEpoch,
        })
        encodedPartitions.push({ partition: data.partition, recordBatch })
        size += 4 + 4 + recordBatch.size()
      }
      encodedTopicData.push({ topic, encodedPartitions })
    }

    const encoder = new Encoder(size)
      .writeString(transactionalId)
      .writeInt16(acks)
      .writeInt32(timeout)
      .writeInt32(encodedTopicData.length)
    for (const { topic, encodedPartitions } of encodedTopicData) {
      encoder.writeString(topic).writeInt32(encodedPartitions.length)
      for (const { partition, recordBatch } of encodedPartitions) {
        encoder
          .writeInt32(partition)
          .writeInt32(recordBatch.size())
          .writeEncoder(recordBatch)
      }
    }
    return encoder
  },
})

const sizeOfString = value => (value == null ? 2 : 2 + Buffer.byteLength(value, 'utf8'))

const encodeRecordBatch = async ({
  compression,
  messages,
  transactionalId,
  firstSequence,
  producerId,
  producerEpoch,
}) => {
  const dateNow = Date.now()
  const messageTimestamps = messages
    .map(m => m.timestamp)
    .filter(timestamp => timestamp != null)
    .sort()

  const timestamps = messageTimestamps.length === 0 ? [dateNow] : messageTimestamps
  const firstTimestamp = timestamps[0]
  const maxTimestamp = timestamps[timestamps.length - 1]

  const records = messages.map((message, i) =>
    Record({
      ...message,
      offsetDelta: i,
      timestampDelta: (message.timestamp || dateNow) - firstTimestamp,
    })
  )

  return RecordBatch({
    compression,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    firstSequence,
    transactional: !!transactionalId,
    lastOffsetDelta: records.length - 1,
  })
}
