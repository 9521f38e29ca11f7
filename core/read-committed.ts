// What a read_committed consumer gets of one partition's fetched record batches, as the Java
// consumer picks them: a batch of a producer whose aborted transaction began at or before it, and
// whose abort marker has not yet been passed, is skipped; markers (control batches) advance the
// position but are not records. Used by the stream runtime's own Fetch reader
// (@platformatic/kafka adapter) and by consumer lag's look past committed offsets.
import type { KafkaRecord, RecordsBatch } from '@platformatic/kafka';

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
/** A control record's type (its key's second int16): 0 aborts, 1 commits. */
const ABORT_MARKER = 0;

/** A record a read_committed consumer gets, with the batch it came in. */
export interface CommittedRecord {
  offset: bigint;
  batch: RecordsBatch;
  record: KafkaRecord;
}

/**
 * The committed records at or after `from`, in offset order, and the position after the last
 * batch (`from` when there was none).
 */
export function readCommitted(
  batches: readonly RecordsBatch[],
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[],
  from: bigint,
): { records: CommittedRecord[]; next: bigint } {
  const aborted = [...abortedTransactions].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const abortedProducers = new Set<bigint>();
  const records: CommittedRecord[] = [];
  let next = from;
  for (const batch of batches) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (aborted.length > 0 && (aborted[0]?.firstOffset ?? last + 1n) <= last)
      abortedProducers.add(aborted.shift()?.producerId ?? -1n);
    if (last + 1n > next) next = last + 1n;
    if (batch.attributes & IS_CONTROL) {
      if (batch.records[0]?.key?.readInt16BE(2) === ABORT_MARKER)
        abortedProducers.delete(batch.producerId);
      continue;
    }
    if (batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset >= from) records.push({ offset, batch, record });
    }
  }
  return { records, next };
}
