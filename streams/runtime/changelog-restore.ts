// Restores a task's stores from their changelog partitions before it processes anything:
// read_committed, from the beginning up to the partition's end at the start of the restore.
import type { Logger } from '../../core/logger.ts';
import type { StreamsKafkaClient } from './kafka-port.ts';
import { restoreChangelogRecord, type TaskStateStore } from './store-changelog.ts';
import { changelogTopic, type Topology } from './topology.ts';

export interface RestoreResult {
  records: number;
  seconds: number;
}

export async function restoreTaskStores(
  client: StreamsKafkaClient,
  topology: Topology,
  partition: number,
  storeOf: (name: string) => TaskStateStore,
  log: Logger,
): Promise<RestoreResult> {
  const started = performance.now();
  const specs = [...topology.stores.values()].filter((s) => s.changelog !== false);
  if (specs.length === 0) return { records: 0, seconds: 0 };
  const admin = await client.admin();
  const ends = new Map<string, string>();
  try {
    for (const spec of specs) {
      const topic = changelogTopic(topology.applicationId, spec.name);
      const p = (await admin.endOffsets(topic)).find((o) => o.partition === partition);
      if (p && BigInt(p.high) > BigInt(p.low)) ends.set(spec.name, p.high);
    }
  } finally {
    await admin.close();
  }
  log.debug({ partition, ends: Object.fromEntries(ends) }, 'restoring stores up to');
  let records = 0;
  const byTopic = new Map(specs.map((s) => [changelogTopic(topology.applicationId, s.name), s]));
  await client.readRanges({
    ranges: [...ends].map(([name, to]) => ({
      topic: changelogTopic(topology.applicationId, name),
      partition,
      to,
    })),
    onBatch: async (range, batch) => {
      const spec = byTopic.get(range.topic);
      if (!spec) return;
      const store = storeOf(spec.name);
      for (const record of batch) {
        if (record.key === null) continue;
        await restoreChangelogRecord(spec, store, record);
        records += 1;
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (ends.size > 0) log.info({ partition, records, seconds }, 'stores restored from changelogs');
  return { records, seconds };
}
