// Consumer group lag from the real broker: end offset − committed offset per partition, only
// for the groups asked for and only where the group committed, and as Prometheus reads it.
import type { Admin, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { measureConsumerLag, registerConsumerLagGauge } from '../../core/consumer-lag.ts';
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
