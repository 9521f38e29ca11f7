// Restores a task's stores from their changelog partitions before it processes anything:
// read_committed, up to the partition's end at the start of the restore; from the beginning,
// or for a store on disk that a checkpoint vouches for, from the checkpoint's offset.
import type { Logger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import type { StreamsKafkaClient } from './kafka-port.ts';
import type { Checkpoint } from './state-directory.ts';
import { TransactionalKeyValueStore } from './state-store.ts';
import { restoreChangelogRecord, type TaskStateStore } from './store-changelog.ts';
import { changelogTopic, type Topology } from './topology.ts';

const PROGRESS_INTERVAL_MS = 5_000;

export interface RestoreResult {
  records: number;
  /** Of `records`, those applied to stores restored from a checkpoint. */
  tailRecords: number;
  seconds: number;
  /** Stores restored from a checkpoint (their tail only). */
  fromCheckpoint: string[];
}

export async function restoreTaskStores(
  client: StreamsKafkaClient,
  topology: Topology,
  partition: number,
  storeOf: (name: string) => TaskStateStore,
  log: Logger,
  /** Where the task's stores on disk stand, from a clean close (stores not named restore fully). */
  checkpoint: Checkpoint = new Map(),
): Promise<RestoreResult> {
  const started = performance.now();
  const specs = [...topology.stores.values()].filter((s) => s.changelog !== false);
  if (specs.length === 0) return { records: 0, tailRecords: 0, seconds: 0, fromCheckpoint: [] };
  const admin = await client.admin();
  const ranges = new Map<string, { from: string | undefined; to: string }>();
  const fromCheckpoint: string[] = [];
  try {
    for (const spec of specs) {
      const topic = changelogTopic(topology.applicationId, spec.name);
      // A changelog created moments ago may not have its leader known to every broker yet
      // (NOT_LEADER_OR_FOLLOWER): asked again for a while rather than failing the task.
      const offsets = await waitFor(() => admin.endOffsets(topic), {
        timeoutMs: 30_000,
        intervalMs: 100,
        maxIntervalMs: 1_000,
        description: `end offsets of ${topic}`,
      });
      const p = offsets.find((o) => o.partition === partition);
      const low = BigInt(p?.low ?? '0');
      const high = BigInt(p?.high ?? '0');
      const at = checkpoint.get(spec.name);
      // A checkpoint outside the changelog's offsets (topic recreated, or compacted past it)
      // vouches for nothing: the store starts empty.
      if (at !== undefined && BigInt(at) >= low && BigInt(at) <= high) {
        fromCheckpoint.push(spec.name);
        if (BigInt(at) < high) ranges.set(spec.name, { from: at, to: p?.high ?? '0' });
        continue;
      }
      const store = storeOf(spec.name);
      if (store instanceof TransactionalKeyValueStore) store.wipe();
      if (high > low) ranges.set(spec.name, { from: undefined, to: p?.high ?? '0' });
    }
  } finally {
    await admin.close();
  }
  log.debug({ partition, ranges: Object.fromEntries(ranges), fromCheckpoint }, 'restoring stores');
  let records = 0;
  let tailRecords = 0;
  // A restore of millions of records takes a while: a progress line every few seconds.
  let reportedAt = performance.now();
  const toRead = [...ranges.values()].reduce(
    (n, r) => n + Number(BigInt(r.to) - BigInt(r.from ?? '0')),
    0,
  );
  const byTopic = new Map(specs.map((s) => [changelogTopic(topology.applicationId, s.name), s]));
  await client.readRanges({
    ranges: [...ranges].map(([name, { from, to }]) => ({
      topic: changelogTopic(topology.applicationId, name),
      partition,
      from,
      to,
    })),
    onBatch: async (range, batch) => {
      const spec = byTopic.get(range.topic);
      if (!spec) return;
      const store = storeOf(spec.name);
      const tail = range.from !== undefined;
      for (const record of batch) {
        if (record.key === null) continue;
        const restoring = restoreChangelogRecord(spec, store, record);
        if (restoring) await restoring;
        records += 1;
        if (tail) tailRecords += 1;
      }
      if (performance.now() - reportedAt >= PROGRESS_INTERVAL_MS) {
        reportedAt = performance.now();
        log.info({ partition, records, atMost: toRead }, 'restoring stores');
      }
    },
  });
  for (const spec of specs) {
    const store = storeOf(spec.name);
    if (store instanceof TransactionalKeyValueStore) store.restored();
  }
  const seconds = (performance.now() - started) / 1000;
  if (ranges.size > 0 || fromCheckpoint.length > 0)
    log.info(
      { partition, records, tailRecords, seconds, fromCheckpoint },
      'stores restored from changelogs',
    );
  return { records, tailRecords, seconds, fromCheckpoint };
}
