// Kafka transactions as the stream processors rely on them: a committed batch is visible to a
// read_committed consumer, an aborted one is not (but is to read_uncommitted).
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import {
  createKafka,
  createTestTopic,
  deleteTestTopics,
  readToEnd,
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

// Several producers' transactions interleaved in one partition, as a streams application's
// tasks write its repartition topics, and aborted in a different order than they began (as a
// SIGKILL and the fencing after it leave them). The broker lists a fetch's aborted transactions
// by abort marker; kafkajs 2.2.4 assumed first-offset order and let such records through until
// patches/kafkajs@2.2.4 fixed it.
describe('Kafka transactions of several producers, interleaved', () => {
  let kafka: Kafka;
  let topic: string | undefined;

  beforeAll(async () => {
    kafka = createKafka(config, 'transactions-interleaved');
    topic = await createTestTopic(kafka, { partitions: 1 });
    const producers = await Promise.all(
      ['late-abort', 'commit', 'early-abort', 'after'].map(async (role) => {
        const producer = kafka.producer({
          transactionalId: uniqueName(`test-tx-${role}`),
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await producer.connect();
        return producer;
      }),
    );
    const [lateAbort, commit, earlyAbort, after] = producers as [
      (typeof producers)[number],
      (typeof producers)[number],
      (typeof producers)[number],
      (typeof producers)[number],
    ];
    const send = (value: string) => ({
      topic: topic as string,
      messages: [{ key: value, value }],
    });
    try {
      const late = await lateAbort.transaction();
      await late.send(send('late-abort-1')); // offset 0: begins first
      const committing = await commit.transaction();
      await committing.send(send('committed-1')); // 1
      const early = await earlyAbort.transaction();
      await early.send(send('early-abort-1')); // 2
      await early.abort(); // 3: the first abort marker
      await committing.commit(); // 4
      await late.send(send('late-abort-2')); // 5
      await late.abort(); // 6: aborted last, begun first
      const last = await after.transaction();
      await last.send(send('committed-2')); // 7
      await last.commit(); // 8
    } finally {
      for (const producer of producers) await producer.disconnect();
    }
  }, KAFKA_TIMEOUT_MS);

  afterAll(async () => {
    if (topic) await deleteTestTopics(kafka, [topic]);
  }, KAFKA_TIMEOUT_MS);

  test(
    'a read_committed consumer sees only the committed records, in order',
    async () => {
      const messages = await readToEnd(kafka, topic as string);
      expect(messages.map((m) => m.value?.toString())).toEqual(['committed-1', 'committed-2']);
    },
    KAFKA_TIMEOUT_MS,
  );

  test(
    'the log holds all of them: the aborted records are there to be filtered',
    async () => {
      const messages = await waitForMessages(kafka, topic as string, {
        count: 5,
        fromBeginning: true,
        isolationLevel: 'read_uncommitted',
      });
      expect(messages.map((m) => m.value?.toString())).toEqual([
        'late-abort-1',
        'committed-1',
        'early-abort-1',
        'late-abort-2',
        'committed-2',
      ]);
    },
    KAFKA_TIMEOUT_MS,
  );
});
