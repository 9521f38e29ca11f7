// Creates Kafka topics and returns once every partition has a leader. Not kafkajs's
// waitForLeaders: right after a creation a busy broker's metadata may not list the topic yet
// (UNKNOWN_TOPIC_OR_PARTITION, "does not host this topic-partition"), which kafkajs turns into
// a failure; here that only means "not yet".
import type { Admin, ITopicConfig } from 'kafkajs';
import { waitFor } from './wait-for.ts';

/** Resolves to kafkajs's answer: false when the topics existed already. */
export async function createTopicsWithLeaders(
  admin: Admin,
  topics: readonly ITopicConfig[],
  timeoutMs = 60_000,
): Promise<boolean> {
  if (topics.length === 0) return false;
  const created = await admin.createTopics({ topics: [...topics], waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  await waitFor(
    async () => {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      return topics.every((want) => {
        const got = found.find((t) => t.name === want.topic)?.partitions ?? [];
        const count = want.numPartitions ?? -1;
        return (
          got.length > 0 && (count < 0 || got.length === count) && got.every((p) => p.leader >= 0)
        );
      });
    },
    { timeoutMs, description: `leaders of ${names.join(', ')}` },
  );
  return created;
}
