// The API's feed of shipment.state changes (what the SSE routes stream) against the real
// broker, when its consumer loses the group membership (a batch that outlasts the session):
// the feed follows again from where it was, and a subscriber gets every change once, in order,
// without being ended.
import type { Kafka } from 'kafkajs';
import { KafkaStateFeed } from '../../api/adapters/kafka-state-feed.ts';
import { loadConfig } from '../../core/config.ts';
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
});
