// Record batches as a Fetch response holds them (@platformatic/kafka's parsed form), for the
// unit tests of what reads them: core/read-committed.ts and those built on it.
import type { RecordsBatch } from '@platformatic/kafka';

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;

/** A batch of one record per value, from `firstOffset`, stamped 1000 ms + its index. */
export function recordBatch(
  firstOffset: bigint,
  values: string[],
  options: { producerId?: bigint; transactional?: boolean } = {},
): RecordsBatch {
  return {
    firstOffset,
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes: options.transactional ? TRANSACTIONAL : 0,
    lastOffsetDelta: values.length - 1,
    firstTimestamp: 1000n,
    maxTimestamp: 1000n,
    producerId: options.producerId ?? -1n,
    producerEpoch: 0,
    firstSequence: 0,
    records: values.map((v, i) => ({
      length: 0,
      attributes: 0,
      timestampDelta: BigInt(i),
      offsetDelta: i,
      key: Buffer.from(`k${v}`),
      value: Buffer.from(v),
      headers: [[Buffer.from('h'), Buffer.from(v)]],
    })),
  };
}

/** The transaction marker of `producerId` at `offset`: a commit, or an abort. */
export function transactionMarker(
  offset: bigint,
  producerId: bigint,
  commit: boolean,
): RecordsBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(commit ? 1 : 0, 2);
  return {
    ...recordBatch(offset, ['m'], { producerId, transactional: true }),
    attributes: TRANSACTIONAL | CONTROL,
    records: [
      {
        length: 0,
        attributes: 0,
        timestampDelta: 0n,
        offsetDelta: 0,
        key,
        value: null,
        headers: [],
      },
    ],
  };
}
