// The platform's topics, their partitions and cleanup policies (see docs/architecture.md).
import type { Config } from './config.ts';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries: { name: string; value: string }[];
}

export const DLQ_SUFFIX = '.dlq';

export function dlqTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

export function platformTopics(config: Config): TopicSpec[] {
  const { topics } = config;
  const partitions = topics.partitions;
  const deleteAfter7d = [{ name: 'retention.ms', value: String(7 * 24 * 3600 * 1000) }];
  const compacted = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.compaction.lag.ms', value: '0' },
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
      configEntries: [{ name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) }],
    })),
  ];
}
