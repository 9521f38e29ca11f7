// A group's committed offsets for one partition, as no open transaction can still move them:
// KIP-447's OffsetFetch with require_stable. The broker answers UNSTABLE_OFFSET_COMMIT (retried
// here) while a transaction that commits offsets for the partition is open, or committed but not
// yet applied by the group coordinator (it applies the commit marker asynchronously). Without
// it, a task taking a partition over can read the offsets from before the last transaction of
// the earlier owner, whose outputs are committed: it processes those records again and writes
// their outputs twice (seen under exactly-once when a Kafka node was killed: clean readings
// written twice, a shipment's states written again after its later ones).
//
// kafkajs 2.2.4 knows OffsetFetch up to v4 (no require_stable), so both adapters use
// @platformatic/kafka's admin for this one request.
import { Admin } from '@platformatic/kafka';
import type { KafkaClientConfig } from '../../../core/kafka-client.ts';

/** How long UNSTABLE_OFFSET_COMMIT is retried: longer than a transaction's commit takes. */
const STABLE_RETRIES = 40;
const STABLE_RETRY_DELAY_MS = 250;

/** An admin for stable offset fetches (close it when done). */
export function stableOffsetsAdmin(config: KafkaClientConfig, role: string): Admin {
  return new Admin({
    clientId: `${config.kafka.clientId}-streams-${role}`,
    bootstrapBrokers: [...config.kafka.brokers],
    retries: STABLE_RETRIES,
    retryDelay: STABLE_RETRY_DELAY_MS,
  });
}

/** `topic → committed offset` of `groupId` on `partition` of each topic (none: not listed). */
export async function stableCommittedOffsets(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
  partition: number,
): Promise<Map<string, string>> {
  const [group] = await admin.listConsumerGroupOffsets({
    groups: [{ groupId, topics: topics.map((name) => ({ name, partitionIndexes: [partition] })) }],
    requireStable: true,
  });
  const committed = new Map<string, string>();
  for (const topic of group?.topics ?? [])
    for (const p of topic.partitions)
      if (p.partitionIndex === partition && p.committedOffset >= 0n)
        committed.set(topic.name, p.committedOffset.toString());
  return committed;
}
