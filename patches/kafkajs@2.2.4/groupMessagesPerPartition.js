// Continuum patch (patches/apply.mjs): kafkajs 2.2.4 grouped a send's messages per partition by
// copying each partition's array on every message ([...current, message]): quadratic in the
// messages a partition gets in one send. A stream task's commit sends thousands to its own
// partitions, and profiles of the pipeline benchmark put 8–12 % of its CPU here. Same result,
// one pass.
module.exports = ({ topic, partitionMetadata, messages, partitioner }) => {
  if (partitionMetadata.length === 0) {
    return {}
  }

  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition]
    if (current) current.push(message)
    else result[partition] = [message]
  }
  return result
}
