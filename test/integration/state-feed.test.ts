// The API's feed of shipment.state changes (what the SSE routes stream) against the real
// broker, when its consumer loses the group membership (a batch that outlasts the session):
// the feed follows again from where it was, and a subscriber gets every change once, in order,
// without being ended; and that it decodes changes only for subscribers.
import type { Kafka } from 'kafkajs';
import { KafkaStateFeed } from '../../api/adapters/kafka-state-feed.ts';
import { loadConfig } from '../../core/config.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createLogger } from '../../core/logger.ts';
import type { UnifiedShipmentState } from '../../schemas/types.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('silent');
const SESSION_MS = 6_000;

describe('the API state feed when its consumer loses the group', () => {
  let kafka: Kafka;
  let topic: string;

  beforeAll(async () => {
    kafka = createKafka(config, 'state-feed');
    topic = await createTestTopic(kafka, { partitions: 1 });
  });
  afterAll(async () => {
    await deleteTestTopics(kafka, [topic]);
  });

  it('follows again from where it was: every change once, in order, the subscriber kept', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = (value: string) =>
      producer.send({ topic, acks: -1, messages: [{ key: 'SHP-1', value }] });
    let slowOnce = true;
    const feed = new KafkaStateFeed({
      kafka,
      admin,
      config,
      // Stands in for Avro decoding; one record takes twice the session (no heartbeat meanwhile).
      decode: async (bytes) => {
        const text = bytes.toString();
        if (text === 'slow' && slowOnce) {
          slowOnce = false;
          await new Promise((resolve) => setTimeout(resolve, SESSION_MS * 2));
        }
        return { shipmentId: 'SHP-1', status: text } as unknown as UnifiedShipmentState;
      },
      log,
      options: {
        topic,
        groupPrefix: uniqueName('test-feed'),
        bufferPerPartition: 100,
        subscriberQueue: 100,
        sessionTimeoutMs: SESSION_MS,
      },
    });
    await feed.start();
    const subscription = await feed.subscribe({});
    const received: string[] = [];
    const take = async (count: number) => {
      while (received.length < count) {
        const change = await subscription.next();
        if (change === null) throw new Error(`ended: ${subscription.endReason}`);
        received.push(String(change.state.status));
      }
    };
    try {
      await send('a');
      await take(1);
      await send('slow');
      await send('b');
      await take(3);
      await send('c');
      await take(4);
      expect(received).toEqual(['a', 'slow', 'b', 'c']);
      expect(subscription.endReason).toBeUndefined();
    } finally {
      subscription.close();
      await feed.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 120_000);

  it('decodes nothing while nobody subscribes; a subscriber resuming from before gets every change', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const ownTopic = await createTestTopic(kafka, { partitions: 1 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const groupPrefix = uniqueName('test-feed-lazy');
    let decoded = 0;
    const feed = new KafkaStateFeed({
      kafka,
      admin,
      config,
      decode: (bytes) => {
        decoded += 1;
        return Promise.resolve({
          shipmentId: 'SHP-1',
          status: bytes.toString(),
        } as unknown as UnifiedShipmentState);
      },
      log,
      options: { topic: ownTopic, groupPrefix, bufferPerPartition: 100, subscriberQueue: 100 },
    });
    await feed.start();
    try {
      await producer.send({
        topic: ownTopic,
        acks: -1,
        messages: ['a', 'b', 'c'].map((value) => ({ key: 'SHP-1', value })),
      });
      // The feed's consumer has read all three once its group committed past them.
      await waitFor(
        async () => {
          const { groups } = await admin.listGroups();
          const group = groups.find((g) => g.groupId.startsWith(`${groupPrefix}-`))?.groupId;
          if (!group) return false;
          const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [ownTopic] });
          return offsets?.partitions[0]?.offset === '3';
        },
        { timeoutMs: 60_000, description: 'the feed to read the three changes' },
      );
      expect(decoded).toBe(0);
      const subscription = await feed.subscribe({ from: new Map([[0, -1]]) });
      const received: string[] = [];
      while (received.length < 3) {
        const change = await subscription.next();
        if (change === null) throw new Error(`ended: ${subscription.endReason}`);
        received.push(String(change.state.status));
      }
      expect(received).toEqual(['a', 'b', 'c']);
      expect(decoded).toBe(3);
      // Now someone listens: a new change is decoded once and sent live.
      await producer.send({ topic: ownTopic, acks: -1, messages: [{ key: 'SHP-1', value: 'd' }] });
      const live = await subscription.next();
      expect(live?.state.status).toBe('d');
      expect(decoded).toBe(4);
      subscription.close();
    } finally {
      await feed.stop();
      await producer.disconnect();
      await deleteTestTopics(kafka, [ownTopic]);
      await admin.disconnect();
    }
  }, 120_000);
});
