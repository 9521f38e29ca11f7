// Creates what a topology needs beyond its inputs: repartition topics, compacted changelogs
// and a DLQ per input topic, all with the input topics' partition count (co-partitioning).
import type { Admin } from 'kafkajs';
import { ContinuumError } from '../../core/errors.ts';
import { dlqTopic } from '../../core/topics.ts';
import type { Topology } from './topology.ts';

export async function ensureTopologyTopics(
  admin: Admin,
  topology: Topology,
): Promise<{ partitions: number; created: string[] }> {
  const internal = new Set(topology.internalTopics().map((t) => t.topic));
  const external = topology.inputTopics().filter((t) => !internal.has(t));
  const metadata = await admin.fetchTopicMetadata({ topics: external });
  const counts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  const distinct = new Set(counts.values());
  if (distinct.size > 1) {
    throw new ContinuumError(
      `input topics of ${topology.applicationId} are not co-partitioned: ${[...counts].map(([t, n]) => `${t}=${n}`).join(', ')}`,
      {
        context: { applicationId: topology.applicationId },
      },
    );
  }
  const partitions = [...distinct][0] ?? 1;
  const existing = new Set(await admin.listTopics());
  const wanted = [
    ...topology.internalTopics().map((t) => ({
      topic: t.topic,
      numPartitions: partitions,
      configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    })),
    ...topology
      .inputTopics()
      .map((t) => ({ topic: dlqTopic(t), numPartitions: partitions, configEntries: [] })),
  ].filter((t) => !existing.has(t.topic));
  if (wanted.length > 0) await admin.createTopics({ topics: wanted, waitForLeaders: true });
  return { partitions, created: wanted.map((t) => t.topic) };
}
