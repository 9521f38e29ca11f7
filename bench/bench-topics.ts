// Fresh topics for one benchmark, deleted afterwards, so runs never read each other's data.
import { randomBytes } from 'node:crypto';
import { createTopicsWithLeaders } from '../core/create-topics.ts';
import { createKafkaClient } from '../core/kafka-client.ts';
import type { BenchContext } from './benchmark.ts';

export async function withBenchTopics<T>(
  ctx: BenchContext,
  count: number,
  partitions: number,
  fn: (topics: string[]) => Promise<T>,
): Promise<T> {
  const topics = Array.from({ length: count }, () => `bench.${randomBytes(4).toString('hex')}`);
  const admin = createKafkaClient(ctx.config, 'bench-admin', ctx.log).admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(
      admin,
      topics.map((topic) => ({ topic, numPartitions: partitions })),
    );
    return await fn(topics);
  } finally {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}
