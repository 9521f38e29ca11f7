// Creates what a topology needs beyond its inputs: repartition topics, compacted changelogs
// and a DLQ per input topic, all with the input topics' partition count (co-partitioning).
import { ContinuumError } from '../../core/errors.ts';
import { dlqTopic } from '../../core/topics.ts';
import type { NewTopic, StreamsAdmin } from './kafka-port.ts';
import type { Topology } from './topology.ts';

export async function ensureTopologyTopics(
  admin: StreamsAdmin,
  topology: Topology,
): Promise<{ partitions: number; created: string[] }> {
  const internal = new Set(topology.internalTopics().map((t) => t.topic));
  const external = topology.inputTopics().filter((t) => !internal.has(t));
  const counts = await admin.partitionCounts(external);
  const missing = external.filter((t) => !counts.has(t));
  if (missing.length > 0)
    throw new ContinuumError(
      `input topics of ${topology.applicationId} do not exist: ${missing.join(', ')}`,
      { context: { applicationId: topology.applicationId, missing } },
    );
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
  const wanted: NewTopic[] = [
    ...topology.internalTopics().map((t) => ({
      topic: t.topic,
      partitions,
      configs: internalTopicConfigs(t),
    })),
    ...topology.inputTopics().map((t) => ({ topic: dlqTopic(t), partitions })),
  ].filter((t) => !existing.has(t.topic));
  if (wanted.length > 0) await admin.createTopics(wanted);
  return { partitions, created: wanted.map((t) => t.topic) };
}

/**
 * Topic configs of an internal topic. Changelogs are compacted. Repartition topics keep their
 * records whatever their timestamps (as Kafka Streams' do): records carry event time, and time
 * retention would delete a replayed or simulated past before the next sub-topology read it.
 */
export function internalTopicConfigs(topic: { compacted: boolean }): Record<string, string> {
  return topic.compacted ? { 'cleanup.policy': 'compact' } : { 'retention.ms': '-1' };
}
