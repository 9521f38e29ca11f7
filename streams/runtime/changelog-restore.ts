// Restores a task's stores from their changelog partitions before it processes anything:
// read_committed, from the beginning up to the partition's end at the start of the restore.
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import type { InMemoryKeyValueStore } from './state-store.ts';
import { changelogTopic, type Topology } from './topology.ts';

export interface RestoreResult {
  records: number;
  seconds: number;
}

export async function restoreTaskStores(
  kafka: Kafka,
  topology: Topology,
  partition: number,
  storeOf: (name: string) => InMemoryKeyValueStore<unknown, unknown>,
  log: Logger,
): Promise<RestoreResult> {
  const started = performance.now();
  const specs = [...topology.stores.values()].filter((s) => s.changelog !== false);
  if (specs.length === 0) return { records: 0, seconds: 0 };
  const admin = kafka.admin();
  await admin.connect();
  let records = 0;
  try {
    const ends = new Map<string, { low: number; high: number }>();
    for (const spec of specs) {
      const topic = changelogTopic(topology.applicationId, spec.name);
      const offsets = await admin.fetchTopicOffsets(topic);
      const p = offsets.find((o) => o.partition === partition);
      if (p && Number(p.high) > Number(p.low))
        ends.set(topic, { low: Number(p.low), high: Number(p.high) });
    }
    if (ends.size === 0) return { records: 0, seconds: (performance.now() - started) / 1000 };

    const groupId = `${topology.applicationId}-restore-${partition}-${randomBytes(4).toString('hex')}`;
    const consumer = kafka.consumer({
      groupId,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    const done = new Set<string>();
    const byTopic = new Map(specs.map((s) => [changelogTopic(topology.applicationId, s.name), s]));
    // A batch of only transaction markers or aborted records never reaches eachBatch, but kafkajs
    // reports it here; aborted transactions of crashed instances end many changelogs that way.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const end = ends.get(payload.topic);
      if (end && payload.partition === partition && Number(payload.lastOffset) >= end.high - 1)
        done.add(payload.topic);
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...ends.keys()], fromBeginning: true });
      await consumer.run({
        eachBatch: async (payload) => {
          const { batch } = payload;
          if (batch.partition !== partition) return;
          const spec = byTopic.get(batch.topic);
          if (!spec) return;
          const store = storeOf(spec.name);
          for (const message of batch.messages) {
            if (message.key === null) continue;
            const key = await spec.serdes.key.deserialize(message.key);
            const value =
              message.value === null ? null : await spec.serdes.value.deserialize(message.value);
            store.restore({ key, value });
            records += 1;
            payload.resolveOffset(message.offset);
          }
          const end = ends.get(batch.topic);
          if (end && Number(batch.lastOffset()) >= end.high - 1) done.add(batch.topic);
        },
      });
      // kafkajs does not hand over a batch holding only a transaction marker, so a partition may
      // also be complete when the group's committed position has reached its end.
      await waitFor(
        async () => {
          if (done.size === ends.size) return true;
          const committed = await admin.fetchOffsets({ groupId, topics: [...ends.keys()] });
          for (const { topic, partitions } of committed) {
            const position = Number(
              partitions.find((p) => p.partition === partition)?.offset ?? -1,
            );
            if (position >= (ends.get(topic)?.high ?? Infinity)) done.add(topic);
          }
          return done.size === ends.size;
        },
        {
          timeoutMs: 300_000,
          intervalMs: 100,
          maxIntervalMs: 500,
          description: `restore of ${[...ends.keys()].join(', ')} partition ${partition}`,
        },
      );
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    const seconds = (performance.now() - started) / 1000;
    log.info({ partition, records, seconds }, 'stores restored from changelogs');
    return { records, seconds };
  } finally {
    await admin.disconnect();
  }
}
