// One rule for "has a consumer group read this partition to its end", used by the test harness,
// the benchmarks and `continuum lag` (with the API's lag figures).
//
// A committed offset equal to the log end is plainly drained. A partition written by
// transactional producers ends with a commit marker that no record sits behind, and a consumer
// commits either the marker's offset or the one after it (kafkajs hands over no batch that holds
// only control records, so the stream runtime and the sink runner stay one short): committed past
// the partition's last record is drained too. Where that last record is known (read), it decides;
// otherwise a partition known to be written only transactionally is taken to end with one marker.

/** What is known of a partition's tail. */
export type PartitionTail =
  /** Read: the offset of its last record a read_committed consumer gets (undefined: none). */
  | { kind: 'last-record'; offset: bigint | undefined }
  /**
   * Read from `from` (the group's committed offset) to the end: the first record a
   * read_committed consumer gets there (undefined: none, only markers and aborted records).
   */
  | { kind: 'records-from'; from: bigint; first: bigint | undefined }
  /** Written only by transactional producers: ends with a commit marker. */
  | { kind: 'transactional' }
  /** Written without transactions: every offset below the end is a record. */
  | { kind: 'plain' };

/**
 * Whether a group whose committed offset is `committed` (undefined: nothing committed) has read
 * the partition ending (exclusive) at `end`.
 */
export function partitionDrained(
  end: bigint,
  committed: bigint | undefined,
  tail: PartitionTail,
): boolean {
  if (end === 0n || (committed !== undefined && committed >= end)) return true;
  switch (tail.kind) {
    case 'last-record':
      return tail.offset === undefined || (committed !== undefined && committed > tail.offset);
    case 'records-from':
      return committed !== undefined && committed >= tail.from && tail.first === undefined;
    case 'transactional':
      return committed !== undefined && committed >= end - 1n;
    case 'plain':
      return false;
  }
}

/** Offsets still ahead of the group's committed offset (0 once drained by the rule above). */
export function partitionLag(
  end: bigint,
  committed: bigint | undefined,
  tail: PartitionTail,
): number {
  if (partitionDrained(end, committed, tail)) return 0;
  return Number(end - (committed ?? 0n));
}
