// Kafka helpers for integration tests: quiet clients, randomly named topics that exist before
// the test uses them, and a one-shot consumer that reads a topic from the beginning.
import { Kafka, logLevel, type Admin, type KafkaMessage, type LogEntry } from 'kafkajs';
import type { Config } from '../../core/config.ts';
import { RETRIED_KAFKA_NOISE } from '../../core/kafka-client.ts';
import { createTopicsWithLeaders } from '../../core/create-topics.ts';
import { waitFor } from '../../core/wait-for.ts';
import { uniqueName } from './names.ts';

/** Writes kafkajs errors to stderr as one line each, minus the retried noise above. */
function quietLogCreator(): (entry: LogEntry) => void {
  return ({ namespace, level, log }) => {
    if (level !== logLevel.ERROR) return;
    const { message, timestamp: _timestamp, ...extra } = log;
    const text = `${message} ${JSON.stringify(extra)}`;
    if (RETRIED_KAFKA_NOISE.test(text)) return;
    process.stderr.write(`[kafkajs ${namespace}] ${text}\n`);
  };
}

export function createKafka(config: Config, clientIdSuffix: string): Kafka {
  return new Kafka({
    clientId: `${config.kafka.clientId}-test-${clientIdSuffix}`,
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.ERROR,
    logCreator: quietLogCreator,
  });
}

export interface CreateTestTopicOptions {
  partitions?: number;
  /** Topic configs; `retention.ms` defaults to -1 (see {@link createTestTopic}). */
  configEntries?: { name: string; value: string }[];
}

/** Runs `fn` with a connected admin: the one given, or a new one from `kafka`, closed afterwards. */
export async function withAdmin<T>(
  adminOrKafka: Admin | Kafka,
  fn: (admin: Admin) => Promise<T>,
): Promise<T> {
  if (!(adminOrKafka instanceof Kafka)) return fn(adminOrKafka);
  const admin = adminOrKafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates `test.<random>` and returns its name once the cluster metadata lists every
 * partition with a leader, so producers and consumers can use it straight away.
 */
export async function createTestTopic(
  adminOrKafka: Admin | Kafka,
  options: CreateTestTopicOptions = {},
): Promise<string> {
  const topic = uniqueName('test', '.');
  const numPartitions = options.partitions ?? 1;
  // Test records carry fixed event times as their timestamps; with the broker's 7-day
  // retention (checked every few seconds on the native stack) they would be deleted as soon
  // as the calendar passes them. A test that is about retention sets its own.
  const given = options.configEntries ?? [];
  const configEntries = given.some((c) => c.name === 'retention.ms')
    ? given
    : [{ name: 'retention.ms', value: '-1' }, ...given];
  await withAdmin(adminOrKafka, async (admin) => {
    const created = await createTopicsWithLeaders(admin, [{ topic, numPartitions, configEntries }]);
    if (!created) throw new Error(`topic ${topic} already existed`);
  });
  return topic;
}

export async function deleteTestTopics(
  adminOrKafka: Admin | Kafka,
  topics: readonly string[],
): Promise<void> {
  if (topics.length === 0) return;
  await withAdmin(adminOrKafka, (admin) => admin.deleteTopics({ topics: [...topics] }));
}

export interface WaitForMessagesOptions {
  /** Resolve once at least this many messages have been read. */
  count: number;
  /** Always from the beginning: a consumer joining late would race the producer. */
  fromBeginning?: true;
  /** Default `read_committed`, kafkajs's own default. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  timeoutMs?: number;
}

export type ConsumedMessage = KafkaMessage & { topic: string; partition: number };

/**
 * Reads `topic` from the beginning with a fresh consumer group until `count` messages
 * arrived, then disconnects and returns them (in partition order within each partition;
 * possibly more than `count` if they came in the same fetch).
 */
export async function waitForMessages(
  kafka: Kafka,
  topic: string,
  options: WaitForMessagesOptions,
): Promise<ConsumedMessage[]> {
  const groupId = uniqueName('test-group');
  const isolationLevel = options.isolationLevel ?? 'read_committed';
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: isolationLevel === 'read_uncommitted',
    // Short fetch waits: the test is waiting on these messages, not batching them.
    maxWaitTimeInMs: 500,
  });
  const messages: ConsumedMessage[] = [];
  let crashed: Error | undefined;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crashed = payload.error;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic: from, partition, message }) => {
        messages.push({ ...message, topic: from, partition });
        return Promise.resolve();
      },
    });
    await waitFor(
      () => {
        if (crashed !== undefined) throw crashed;
        // Thrown rather than `false` so a timeout reports how far it got.
        if (messages.length < options.count) {
          throw new Error(`${messages.length} of ${options.count} messages so far`);
        }
        return true;
      },
      {
        timeoutMs: options.timeoutMs ?? 60_000,
        description: `${options.count} ${isolationLevel} messages on ${topic}`,
      },
    );
    return [...messages];
  } finally {
    await consumer.disconnect();
    // Leave no empty groups behind; the group may already be gone, which is fine.
    await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
}

/** Records in a topic (sum of high watermarks): proves "exactly N written" for non-transactional topics. */
export async function countRecords(adminOrKafka: Admin | Kafka, topic: string): Promise<number> {
  return withAdmin(adminOrKafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  });
}

/**
 * Reads every committed record of a topic that nobody is writing to any more: up to the end
 * offsets at the start of the call. kafkajs never hands over a batch holding only transaction
 * markers, so a partition also counts as read when the group's committed position reaches its end.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  timeoutMs = 60_000,
): Promise<ConsumedMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = uniqueName('test-read');
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  try {
    const ends = new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
    );
    const done = new Set([...ends].filter(([, high]) => high === 0).map(([p]) => p));
    const messages: ConsumedMessage[] = [];
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (Number(payload.lastOffset) >= (ends.get(payload.partition) ?? 0) - 1)
        done.add(payload.partition);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        for (const message of batch.messages)
          messages.push({ ...message, topic, partition: batch.partition });
        if (Number(batch.lastOffset()) >= (ends.get(batch.partition) ?? 0) - 1)
          done.add(batch.partition);
        return Promise.resolve();
      },
    });
    await waitFor(
      async () => {
        if (done.size === ends.size) return true;
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const p of committed?.partitions ?? [])
          if (Number(p.offset) >= (ends.get(p.partition) ?? 0)) done.add(p.partition);
        return done.size === ends.size;
      },
      { timeoutMs, description: `${topic} read to its end` },
    );
    return messages;
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
