// Creates what a topology needs beyond its inputs: repartition topics, compacted changelogs
// and a DLQ per input topic, all with the input topics' partition count (co-partitioning).
// An internal topic that exists without the configs the runtime relies on (made by an older
// version, or by hand) gets them set, as Kafka Streams' internal topic manager insists on them.
import { ContinuumError } from '../../core/errors.ts';
import { dlqTopic, dlqTopicConfigs, WRITE_TIME_TIMESTAMPS } from '../../core/topics.ts';
import type { NewTopic, StreamsAdmin } from './kafka-port.ts';
import type { Topology } from './topology.ts';

/** An existing internal topic whose configs were set: what it had, and what it got. */
export interface AlignedTopic {
  topic: string;
  had: Record<string, string>;
  set: Record<string, string>;
}

export async function ensureTopologyTopics(
  admin: StreamsAdmin,
  topology: Topology,
): Promise<{ partitions: number; created: string[]; aligned: AlignedTopic[] }> {
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
    // Dead letters are kept 30 days from when they were written, as the platform's DLQs are.
    ...topology.inputTopics().map((t) => ({
      topic: dlqTopic(t),
      partitions,
      configs: Object.fromEntries(dlqTopicConfigs().map((c) => [c.name, c.value])),
    })),
  ].filter((t) => !existing.has(t.topic));
  if (wanted.length > 0) await admin.createTopics(wanted);
  const aligned = await alignInternalTopics(
    admin,
    topology.internalTopics().filter((t) => existing.has(t.topic)),
  );
  return { partitions, created: wanted.map((t) => t.topic), aligned };
}

/** Sets internalTopicConfigs on existing internal topics that lack them. */
async function alignInternalTopics(
  admin: StreamsAdmin,
  topics: readonly { topic: string; compacted: boolean; configs?: Record<string, string> }[],
): Promise<AlignedTopic[]> {
  const names = [
    ...new Set(topics.flatMap((t) => Object.keys(enforcedConfigs(internalTopicConfigs(t))))),
  ];
  const current = await admin.topicConfigs(
    topics.map((t) => t.topic),
    names,
  );
  const aligned: AlignedTopic[] = [];
  for (const t of topics) {
    const have = current.get(t.topic) ?? {};
    const wrong = Object.entries(enforcedConfigs(internalTopicConfigs(t))).filter(
      ([name, value]) => !satisfies(name, have[name], value),
    );
    if (wrong.length === 0) continue;
    const set = Object.fromEntries(wrong);
    await admin.setTopicConfigs(t.topic, set);
    aligned.push({
      topic: t.topic,
      had: Object.fromEntries(wrong.map(([name]) => [name, have[name] ?? '(unknown)'])),
      set,
    });
  }
  return aligned;
}

/** What an existing topic is made to have: not how often it rolls, which an operator may tune. */
function enforcedConfigs(configs: Record<string, string>): Record<string, string> {
  const { 'segment.ms': _rolling, ...rest } = configs;
  return rest;
}

/** `cleanup.policy` may hold more than compaction (say `compact,delete`); the rest must equal. */
function satisfies(name: string, have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (name === 'cleanup.policy') return have.split(',').includes(want);
  return have === want;
}

/** How often a changelog rolls a segment, so compaction reaches what was written. */
export const CHANGELOG_SEGMENT_MS = 3_600_000;

/**
 * Topic configs of an internal topic. Changelogs are compacted and, like the platform's topics,
 * stamped with the time a record was written (a store's restore reads values, not timestamps).
 * Repartition topics keep their records whatever their timestamps (as Kafka Streams' do): they
 * carry event time as CreateTime, which the next sub-topology reads as its records' time, and
 * time retention would delete a replayed or simulated past before it read them; the runtime
 * purges what its group has committed past.
 */
export function internalTopicConfigs(topic: {
  compacted: boolean;
  configs?: Record<string, string>;
}): Record<string, string> {
  return {
    ...(topic.compacted
      ? {
          'cleanup.policy': 'compact',
          [WRITE_TIME_TIMESTAMPS.name]: WRITE_TIME_TIMESTAMPS.value,
          // Write-time segments would otherwise roll only at 1 GiB or after 7 days, and the
          // active segment is never compacted: restores would read every write since.
          'segment.ms': String(CHANGELOG_SEGMENT_MS),
        }
      : { 'retention.ms': '-1' }),
    ...topic.configs,
  };
}
