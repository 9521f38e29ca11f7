// Kafka transactions as the stream processors rely on them: a committed batch is visible to a
// read_committed consumer, an aborted one is not (but is to read_uncommitted).
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import {
  createKafka,
  createTestTopic,
  deleteTestTopics,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
// Explicit per test and hook: group joins and transaction coordinator start-up take seconds on a cold broker.
const KAFKA_TIMEOUT_MS = 90_000;

const committed = ['committed-1', 'committed-2', 'committed-3'];
const aborted = ['aborted-1', 'aborted-2'];
// Committed after the aborted batch: reading it proves the consumer has read past the abort.
const marker = 'marker-after-abort';

describe('Kafka transactions', () => {
  let kafka: Kafka;
  let topic: string | undefined;

  beforeAll(async () => {
    kafka = createKafka(config, 'transactions');
    // One partition, so offsets order the three transactions.
    topic = await createTestTopic(kafka, { partitions: 1 });
    const producer = kafka.producer({
      transactionalId: uniqueName('test-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const toSend = (values: string[]) => ({
        topic: topic as string,
        messages: values.map((value, i) => ({ key: `k-${i}`, value })),
      });

      const first = await producer.transaction();
      await first.send(toSend(committed));
      await first.commit();

      const second = await producer.transaction();
      await second.send(toSend(aborted));
      await second.abort();

      const third = await producer.transaction();
      await third.send(toSend([marker]));
      await third.commit();
    } finally {
      await producer.disconnect();
    }
  }, KAFKA_TIMEOUT_MS);

  afterAll(async () => {
    if (topic) await deleteTestTopics(kafka, [topic]);
  }, KAFKA_TIMEOUT_MS);

  test(
    'a read_committed consumer sees exactly the committed records',
    async () => {
      const messages = await waitForMessages(kafka, topic as string, {
        count: committed.length + 1,
        fromBeginning: true,
        isolationLevel: 'read_committed',
      });
      expect(messages.map((m) => m.value?.toString())).toEqual([...committed, marker]);
      expect(messages).toHaveLength(committed.length + 1);
    },
    KAFKA_TIMEOUT_MS,
  );

  test(
    'a read_uncommitted consumer also sees the aborted records',
    async () => {
      const messages = await waitForMessages(kafka, topic as string, {
        count: committed.length + aborted.length + 1,
        fromBeginning: true,
        isolationLevel: 'read_uncommitted',
      });
      expect(messages.map((m) => m.value?.toString())).toEqual([...committed, ...aborted, marker]);
    },
    KAFKA_TIMEOUT_MS,
  );
});
