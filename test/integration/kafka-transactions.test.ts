// Kafka transactions as the stream processors rely on them: a committed batch is visible to a
// read_committed consumer, an aborted one is not (but is to read_uncommitted).
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import {
  createStreamsClient,
  STREAMS_CLIENT_KINDS,
} from '../../streams/runtime/clients/create-streams-client.ts';
import type { StreamsClientKind, StreamsKafkaClient } from '../../streams/runtime/kafka-port.ts';
import {
  createKafka,
  createTestTopic,
  deleteTestTopics,
  readToEnd,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
// Explicit per test and hook: group joins and transaction coordinator start-up take seconds on a cold broker.
const KAFKA_TIMEOUT_MS = 90_000;

const committed = ['committed-1', 'committed-2', 'committed-3'];
const aborted = ['aborted-1', 'aborted-2'];
// Committed after the aborted batch: reading it proves the consumer has read past the abort.
const marker = 'marker-after-abort';

/** The values a streams client's range reader (a changelog restore) reads from partition 0. */
async function restoredValues(client: StreamsKafkaClient, topic: string): Promise<string[]> {
  const values: string[] = [];
  const admin = await client.admin();
  const [end] = await admin.endOffsets(topic).finally(() => admin.close());
  await client.readRanges({
    ranges: [{ topic, partition: 0, to: end?.high ?? '0' }],
    onBatch: (_range, records) => {
      values.push(...records.map((r) => r.value?.toString() ?? ''));
      return Promise.resolve();
    },
  });
  return values;
}

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
      const again = await earlyAbort.transaction();
      await again.send(send('early-abort-2')); // 4: the same producer aborts a second time
      await again.abort(); // 5
      await committing.commit(); // 6
      await late.send(send('late-abort-2')); // 7
      await late.abort(); // 8: aborted last, begun first
      const last = await after.transaction();
      await last.send(send('committed-2')); // 9
      await last.commit(); // 10
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
        count: 6,
        fromBeginning: true,
        isolationLevel: 'read_uncommitted',
      });
      expect(messages.map((m) => m.value?.toString())).toEqual([
        'late-abort-1',
        'committed-1',
        'early-abort-1',
        'early-abort-2',
        'late-abort-2',
        'committed-2',
      ]);
    },
    KAFKA_TIMEOUT_MS,
  );

  // What the streams runtime reads through: each adapter's group consumer (inputs, repartition
  // topics) and its range reader (changelog restore).
  describe.each<StreamsClientKind>([...STREAMS_CLIENT_KINDS])('the %s streams client', (kind) => {
    let client: StreamsKafkaClient;

    beforeAll(() => {
      client = createStreamsClient(config, kind, log);
    });

    afterAll(async () => {
      await (client as { close?: () => Promise<void> } | undefined)?.close?.();
    });

    test(
      'its group consumer hands over only the committed records',
      async () => {
        const values: string[] = [];
        let fatal: Error | undefined;
        const consumer = await client.groupConsumer({
          groupId: uniqueName(`test-tx-group-${kind}`),
          topics: [topic as string],
          sessionTimeoutMs: 10_000,
          onAssigned: () => undefined,
          onBatch: (batch) => {
            values.push(...batch.records.map((r) => r.value?.toString() ?? ''));
            return Promise.resolve();
          },
          isFatal: () => true,
          onFatal: (error) => {
            fatal = error;
          },
        });
        try {
          await waitFor(
            () => {
              if (fatal) throw fatal;
              return values.includes('committed-2');
            },
            { timeoutMs: 60_000, description: `${kind} group consumer reaching committed-2` },
          );
        } finally {
          await consumer.stop();
        }
        expect(values).toEqual(['committed-1', 'committed-2']);
      },
      KAFKA_TIMEOUT_MS,
    );

    test(
      'its range reader restores only the committed records',
      async () => {
        expect(await restoredValues(client, topic as string)).toEqual([
          'committed-1',
          'committed-2',
        ]);
      },
      KAFKA_TIMEOUT_MS,
    );
  });
});

// A changelog after the log cleaner has been through it: compaction removes an aborted
// transaction's records but keeps their (now empty) record batch. kafkajs 2.2.4 never fetched
// past such a batch, so a restore stood still until patches/kafkajs@2.2.4 fixed it. Records
// stamped a month back make the broker roll the segment at the next append (segment.ms is
// measured from a segment's first timestamp), as event-time changelogs do, so it can be cleaned.
describe('a compacted topic whose aborted transactions the cleaner removed', () => {
  let kafka: Kafka;
  let topic: string | undefined;
  const monthAgo = String(Date.now() - 30 * 24 * 3_600_000);

  beforeAll(async () => {
    kafka = createKafka(config, 'transactions-compacted');
    topic = await createTestTopic(kafka, {
      partitions: 1,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.cleanable.dirty.ratio', value: '0.01' },
        { name: 'min.compaction.lag.ms', value: '0' },
      ],
    });
    const producer = kafka.producer({
      transactionalId: uniqueName('test-tx-compacted'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const send = (values: string[]) => ({
      topic: topic as string,
      messages: values.map((value) => ({ key: value, value, timestamp: monthAgo })),
    });
    try {
      const aborted = await producer.transaction();
      await aborted.send(send(['aborted-1', 'aborted-2', 'aborted-3'])); // 0-2
      await aborted.abort(); // 3, in a new segment
      const committed = await producer.transaction();
      await committed.send(send(['committed-1'])); // 4
      await committed.commit(); // 5
      const last = await producer.transaction();
      await last.send(send(['committed-2'])); // 6: rolls again, so offsets 4-5 can be cleaned
      await last.commit(); // 7
    } finally {
      await producer.disconnect();
    }
    // The cleaner has run once even a read_uncommitted reader no longer sees the aborted records.
    await waitFor(
      async () => {
        const values = (
          await waitForMessages(kafka, topic as string, {
            count: 2,
            fromBeginning: true,
            isolationLevel: 'read_uncommitted',
          })
        ).map((m) => m.value?.toString());
        return values[0] === 'committed-1';
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        description: 'the log cleaner removing aborted records',
      },
    );
  }, 120_000);

  afterAll(async () => {
    if (topic) await deleteTestTopics(kafka, [topic]);
  }, KAFKA_TIMEOUT_MS);

  test.each<StreamsClientKind>([...STREAMS_CLIENT_KINDS])(
    'the %s streams client restores past the emptied batch',
    async (kind) => {
      const client = createStreamsClient(config, kind, log);
      try {
        expect(await restoredValues(client, topic as string)).toEqual([
          'committed-1',
          'committed-2',
        ]);
      } finally {
        await (client as { close?: () => Promise<void> }).close?.();
      }
    },
    KAFKA_TIMEOUT_MS,
  );

  test(
    'a kafkajs consumer reads and commits past it',
    async () => {
      const messages = await readToEnd(kafka, topic as string, 30_000);
      expect(messages.map((m) => m.value?.toString())).toEqual(['committed-1', 'committed-2']);
    },
    KAFKA_TIMEOUT_MS,
  );
});
