import { loadConfig } from './config.ts';
import { dlqTopic, platformTopics } from './topics.ts';

describe('platformTopics', () => {
  const config = loadConfig({ CONTINUUM_TOPIC_PARTITIONS: '4' });
  const topics = new Map(platformTopics(config).map((t) => [t.topic, t]));
  const policy = (topic: string): string | undefined =>
    topics.get(topic)?.configEntries.find((e) => e.name === 'cleanup.policy')?.value;

  it('co-partitions the data topics that are joined', () => {
    for (const topic of [
      'shipments.cdc',
      'telemetry.raw',
      'telemetry.clean',
      'shipment.state',
      'deliveries.completed',
    ]) {
      expect(topics.get(topic)?.numPartitions).toBe(4);
    }
  });

  it('compacts the materialized view and the model stream, not the event streams', () => {
    expect(policy('shipment.state')).toBe('compact');
    expect(policy('eta.models')).toBe('compact');
    expect(policy('telemetry.raw')).toBeUndefined();
  });

  it('stamps every topic with the time a record was written, so retention counts from then', () => {
    expect(topics.size).toBe(11);
    for (const spec of topics.values()) {
      const type = spec.configEntries.find((e) => e.name === 'message.timestamp.type');
      expect(`${spec.topic}: ${type?.value}`).toBe(`${spec.topic}: LogAppendTime`);
    }
  });

  it('has a DLQ for every topic a processor reads', () => {
    for (const topic of [
      'shipments.cdc',
      'telemetry.raw',
      'telemetry.clean',
      'shipment.state',
      'deliveries.completed',
    ]) {
      expect(topics.has(dlqTopic(topic))).toBe(true);
    }
  });
});
