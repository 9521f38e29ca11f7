// Reads given offset ranges of one topic, read_committed, and stops: the building block of view
// rebuilds, dead-letter re-drives and stream catch-ups. A throwaway consumer group starts at
// each range's first offset (committed from outside before it joins) and is deleted afterwards.
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { KafkaClientConfig } from './kafka-client.ts';
import { ContinuumError } from './errors.ts';
import { alterGroupOffsets } from './group-offsets.ts';

export interface OffsetRange {
  partition: number;
  /** First offset to read. */
  from: number;
  /** Exclusive end: reading stops once the position reaches it (transaction markers count). */
  to: number;
}

export interface ReadOffsetRangesOptions {
  topic: string;
  ranges: readonly OffsetRange[];
  /** Records in offset order per partition, each within its range and delivered once. */
  onBatch: (partition: number, messages: KafkaMessage[]) => Promise<void>;
  /** Prefix of the throwaway group's id (shows in `kafka-consumer-groups --list`). */
  groupPrefix: string;
  signal?: AbortSignal;
  /** Fails when no partition moved for this long (a stuck fetch, a deleted topic). */
  stallTimeoutMs?: number;
}

export class RangeReadStalledError extends ContinuumError {
  override readonly code = 'RANGE_READ_STALLED';
}

export async function readOffsetRanges(
  kafka: Kafka,
  config: KafkaClientConfig,
  options: ReadOffsetRangesOptions,
): Promise<void> {
  const wanted = new Map(
    options.ranges.filter((r) => r.from < r.to).map((r) => [r.partition, r] as const),
  );
  if (wanted.size === 0) return;
  options.signal?.throwIfAborted();
  const groupId = `${options.groupPrefix}-${randomBytes(6).toString('hex')}`;
  await alterGroupOffsets(
    config,
    groupId,
    [...wanted.values()].map((r) => ({
      topic: options.topic,
      partition: r.partition,
      offset: r.from,
    })),
  );
  /** Per partition, the last offset handed to onBatch: a re-fetch after a rebalance repeats none. */
  const delivered = new Map<number, number>();
  const done = new Set<number>();
  let lastProgress = Date.now();
  let failure: Error | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const markPosition = (partition: number, lastOffset: number): void => {
    const range = wanted.get(partition);
    if (range && lastOffset >= range.to - 1 && !done.has(partition)) {
      done.add(partition);
      if (done.size === wanted.size) finish();
    }
  };
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
    retry: { retries: 5 },
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic !== options.topic) return;
    lastProgress = Date.now();
    markPosition(payload.partition, Number(payload.lastOffset));
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) {
      failure = payload.error;
      finish();
    }
  });
  const onAbort = (): void => finish();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > stallTimeoutMs) {
      failure = new RangeReadStalledError(
        `reading ${options.topic} made no progress for ${stallTimeoutMs} ms`,
        { context: { topic: options.topic, done: [...done], groupId } },
      );
      finish();
    }
  }, 1_000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const range = wanted.get(batch.partition);
        if (!range || done.has(batch.partition) || !payload.isRunning() || payload.isStale())
          return;
        const after = delivered.get(batch.partition) ?? range.from - 1;
        const messages = batch.messages.filter((m) => {
          const offset = Number(m.offset);
          return offset > after && offset >= range.from && offset < range.to;
        });
        if (messages.length > 0) {
          await options.onBatch(batch.partition, messages);
          delivered.set(batch.partition, Number(messages.at(-1)?.offset));
        }
      },
    });
    await finished;
  } finally {
    clearInterval(watchdog);
    options.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  if (failure !== undefined) throw failure;
  options.signal?.throwIfAborted();
}
