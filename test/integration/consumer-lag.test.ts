// Consumer group lag from the real broker: end offset − committed offset per partition, only
// for the groups asked for and only where the group committed, and as Prometheus reads it; 0
// where only transaction markers and aborted records follow the committed offset.
import type { Admin, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import {
  measureConsumerLag,
  registerConsumerLagGauge,
  registerConsumerLagGauges,
} from '../../core/consumer-lag.ts';
import { FetchPartitionTailReader } from '../../core/partition-tails.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);

describe('consumer lag', () => {
  let kafka: Kafka;
  let admin: Admin;
  let topic: string;
  const group = uniqueName('test-lag');

  beforeAll(async () => {
    kafka = createKafka(config, 'consumer-lag');
    admin = kafka.admin();
    await admin.connect();
    topic = await createTestTopic(admin, { partitions: 2 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        ...[1, 2, 3, 4, 5].map((n) => ({ partition: 0, value: `p0-${n}` })),
        ...[1, 2, 3].map((n) => ({ partition: 1, value: `p1-${n}` })),
      ],
    });
    await producer.disconnect();
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] });
  });

  afterAll(async () => {
    await admin.deleteGroups([group]).catch(() => undefined);
    await deleteTestTopics(admin, [topic]);
    await admin.disconnect();
  });

  it('is the end offset minus the committed offset, per partition the group committed', async () => {
    expect(await measureConsumerLag(admin, group)).toEqual([
      { group, topic, partition: 0, committed: 2, end: 5, lag: 3 },
    ]);
    expect(await measureConsumerLag(admin, `${group}-other`)).toEqual([]);
  });

  it('is exported as kafka_consumergroup_lag, measured at scrape time', async () => {
    const registry = new Registry();
    registerConsumerLagGauge(registry, () => measureConsumerLag(admin, group));
    expect(await registry.metrics()).toContain(
      `kafka_consumergroup_lag{consumergroup="${group}",topic="${topic}",partition="0"} 3`,
    );
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '5' }] });
    expect(await registry.metrics()).toContain(
      `kafka_consumergroup_lag{consumergroup="${group}",topic="${topic}",partition="0"} 0`,
    );
  });
});

describe('consumer lag behind transaction markers and aborted records', () => {
  let kafka: Kafka;
  let admin: Admin;
  let topic: string;
  let tails: FetchPartitionTailReader;
  const group = uniqueName('test-lag-tx');

  beforeAll(async () => {
    kafka = createKafka(config, 'consumer-lag-tx');
    admin = kafka.admin();
    await admin.connect();
    tails = new FetchPartitionTailReader(config, 'test-lag-tx');
    topic = await createTestTopic(admin, { partitions: 2 });
    const producer = kafka.producer({
      transactionalId: uniqueName('test-lag-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    // Both partitions: records 0..2 committed (marker 3), then 4..5 aborted (marker 6).
    const both = (value: string) => [0, 1].map((partition) => ({ partition, value }));
    const committed = await producer.transaction();
    await committed.send({ topic, messages: ['a', 'b', 'c'].flatMap(both) });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: ['x', 'y'].flatMap(both) });
    await aborted.abort();
    await producer.disconnect();
    // A second group on partition 0, two records behind: one partition read from two offsets.
    await admin.setOffsets({
      groupId: `${group}-b`,
      topic,
      partitions: [{ partition: 0, offset: '1' }],
    });
    // Partition 0: read to its last committed record. Partition 1: record 2 still to read.
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '3' },
        { partition: 1, offset: '2' },
      ],
    });
  });

  afterAll(async () => {
    await tails.close();
    await admin.deleteGroups([group, `${group}-b`]).catch(() => undefined);
    await deleteTestTopics(admin, [topic]);
    await admin.disconnect();
  });

  it('is 0 where only markers and aborted records are left, the raw distance elsewhere', async () => {
    expect(await measureConsumerLag(admin, group, tails)).toEqual([
      { group, topic, partition: 0, committed: 3, end: 7, lag: 0 },
      { group, topic, partition: 1, committed: 2, end: 7, lag: 5 },
      // The same partition, read from its own offset: records 1 and 2 are still to come.
      { group: `${group}-b`, topic, partition: 0, committed: 1, end: 7, lag: 6 },
    ]);
    // Without reading the tails: the raw differences, as Kafka's tools show them.
    expect(await measureConsumerLag(admin, group)).toEqual([
      { group, topic, partition: 0, committed: 3, end: 7, lag: 4 },
      { group, topic, partition: 1, committed: 2, end: 7, lag: 5 },
      { group: `${group}-b`, topic, partition: 0, committed: 1, end: 7, lag: 6 },
    ]);
  });

  it('reports no waiting time for the caught-up partition, however long it stays idle', async () => {
    const registry = new Registry();
    let now = 1_000_000;
    registerConsumerLagGauges(
      registry,
      () => measureConsumerLag(admin, group, tails),
      undefined,
      () => now,
    );
    await registry.metrics();
    now += 600_000;
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      `kafka_consumergroup_lag_seconds{consumergroup="${group}",topic="${topic}",partition="0"} 0`,
    );
    expect(metrics).toContain(
      `kafka_consumergroup_lag_seconds{consumergroup="${group}",topic="${topic}",partition="1"} 600`,
    );
  });
});
