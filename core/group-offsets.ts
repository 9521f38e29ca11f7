// Committed offsets of a consumer group, written the way Kafka's own
// `kafka-consumer-groups --reset-offsets` writes them: an OffsetCommit from outside the group
// (AdminClient.alterConsumerGroupOffsets), so nothing joins the group to move it. kafkajs can
// only do that by joining the group with a consumer; @platformatic/kafka's admin has the call.
import { Admin } from '@platformatic/kafka';
import type { KafkaClientConfig } from './kafka-client.ts';

export interface GroupOffset {
  topic: string;
  partition: number;
  offset: number;
}

export async function alterGroupOffsets(
  config: KafkaClientConfig,
  groupId: string,
  offsets: readonly GroupOffset[],
): Promise<void> {
  if (offsets.length === 0) return;
  const byTopic = new Map<string, { partition: number; offset: bigint }[]>();
  for (const o of offsets)
    byTopic.set(o.topic, [
      ...(byTopic.get(o.topic) ?? []),
      { partition: o.partition, offset: BigInt(o.offset) },
    ]);
  const admin = new Admin({
    clientId: `${config.kafka.clientId}-group-offsets`,
    bootstrapBrokers: [...config.kafka.brokers],
  });
  try {
    await admin.alterConsumerGroupOffsets({
      groupId,
      topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })),
    });
  } finally {
    await admin.close();
  }
}
