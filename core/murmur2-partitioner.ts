// kafkajs's DefaultPartitioner (the Java client's: an explicit partition, else murmur2 of the
// key, else round robin), with murmur2 in 32-bit integer arithmetic. kafkajs computes it with an
// emulated 64-bit Long per step (and allocates several per 4 key bytes), which a CPU profile of
// the pipeline benchmark put at ~4 % of the process, and of the telemetry SDK's benchmark at
// ~18 %; the results are the same bits (the unit test compares them with kafkajs's on random
// keys), so keys land on the same partitions. Every kafkajs producer of the platform that
// partitions by key uses it: the stream runtime's, the telemetry SDK's and the CDC source's.
import type { ICustomPartitioner } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Java's `Utils.murmur2` of the bytes, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] ?? 0) |
      ((data[i4 + 1] ?? 0) << 8) |
      ((data[i4 + 2] ?? 0) << 16) |
      ((data[i4 + 3] ?? 0) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  switch (length % 4) {
    case 3:
      h ^= (data[tail + 2] ?? 0) << 16;
    // falls through
    case 2:
      h ^= (data[tail + 1] ?? 0) << 8;
    // falls through
    case 1:
      h ^= data[tail] ?? 0;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Java's default partitioner gives a key: murmur2, sign bit masked, modulo. */
export function keyPartition(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/**
 * kafkajs's DefaultPartitioner, murmur2 aside: explicit partition, else the key's, else round
 * robin over the partitions that have a leader (from a random start per topic).
 */
export const Murmur2Partitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const { key } = message;
    if (key !== null && key !== undefined)
      return keyPartition(
        typeof key === 'string' ? Buffer.from(key) : key,
        partitionMetadata.length,
      );
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    let counter = counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff);
    counter = (counter + 1) & 0x7fffffff;
    counters.set(topic, counter);
    const pool = available.length > 0 ? available : partitionMetadata;
    return pool[counter % pool.length]?.partitionId ?? 0;
  };
};
