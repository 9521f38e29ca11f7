// The platform's topics, their partitions and configs (see docs/architecture.md).
import type { Config } from './config.ts';

export interface TopicConfigEntry {
  name: string;
  value: string;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries: TopicConfigEntry[];
}

export const DLQ_SUFFIX = '.dlq';

export function dlqTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/**
 * Retention counts from when a record was written, not from the time it is about: records carry
 * event time in their values (the stream processors read it there through timestamp
 * extractors), and with the event time as Kafka timestamp a backfill of last month would be
 * deleted by the broker minutes after it was written.
 */
export const WRITE_TIME_TIMESTAMPS: TopicConfigEntry = {
  name: 'message.timestamp.type',
  value: 'LogAppendTime',
};

/**
 * Configs an existing platform topic is given whatever value it has: what the platform's
 * correctness rests on (write-time retention, a compacted view). The other configs of a spec
 * (retention.ms, min.compaction.lag.ms) are defaults: set where a topic has no value of its own,
 * left as they are where an operator (or a test keeping its records) chose one.
 */
export const ENFORCED_TOPIC_CONFIGS: ReadonlySet<string> = new Set([
  WRITE_TIME_TIMESTAMPS.name,
  'cleanup.policy',
]);

const DAY_MS = 24 * 3600 * 1000;

/** Configs of a dead-letter topic: a letter is kept 30 days after it was written. */
export function dlqTopicConfigs(): TopicConfigEntry[] {
  return [{ name: 'retention.ms', value: String(30 * DAY_MS) }, WRITE_TIME_TIMESTAMPS];
}

export function platformTopics(config: Config): TopicSpec[] {
  const { topics } = config;
  const partitions = topics.partitions;
  const deleteAfter7d = [
    { name: 'retention.ms', value: String(7 * DAY_MS) },
    WRITE_TIME_TIMESTAMPS,
  ];
  const compacted = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.compaction.lag.ms', value: '0' },
    WRITE_TIME_TIMESTAMPS,
  ];
  const data = [
    topics.shipmentsCdc,
    topics.telemetryRaw,
    topics.telemetryClean,
    topics.deliveriesCompleted,
  ];
  return [
    ...data.map((topic) => ({ topic, numPartitions: partitions, configEntries: deleteAfter7d })),
    { topic: topics.shipmentState, numPartitions: partitions, configEntries: compacted },
    // One model stream, read whole by every join task: a single partition keeps it ordered.
    { topic: topics.etaModels, numPartitions: 1, configEntries: compacted },
    ...[...data, topics.shipmentState].map((topic) => ({
      topic: dlqTopic(topic),
      numPartitions: partitions,
      configEntries: dlqTopicConfigs(),
    })),
  ];
}
