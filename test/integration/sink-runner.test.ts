// The sink runner against a real broker when the store is slow: a flush that outlasts the
// group's session keeps the membership (heartbeats while it runs), and one that loses it (no
// heartbeats) rejoins from the committed offsets instead of stopping. Either way every record
// reaches the store, and the runner reports no error. A record the sink refuses goes to the
// DLQ; an exception of the sink's own stops the runner instead of being dead-lettered.
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { SinkRecordError, type Sink, type SinkRecord } from '../../connectors/sinks/sink.ts';
import { SinkWriteError } from '../../core/errors.ts';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { dlqTopic } from '../../core/topics.ts';
import { SinkRunner } from '../../connectors/sinks/sink-runner.ts';
import {
  countRecords,
  createKafka,
  createTestTopic,
  deleteTestTopics,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('silent');
const RECORDS = 2_000;
const SESSION_MS = 6_000;

/** Keeps what it is given; its first flush takes longer than the group's session. */
class SlowSink implements Sink<string> {
  readonly name = 'slow';
  readonly stored = new Set<string>();
  private pending: string[] = [];
  private slowFlushes = 1;

  add(record: SinkRecord<string>): void {
    this.pending.push(record.value);
  }

  async flush(): Promise<{ written: number }> {
    if (this.slowFlushes > 0) {
      this.slowFlushes -= 1;
      await new Promise((resolve) => setTimeout(resolve, SESSION_MS * 2));
    }
    for (const value of this.pending) this.stored.add(value);
    const written = this.pending.length;
    this.pending = [];
    return { written };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('sink runner with a store slower than the group session', () => {
  let kafka: Kafka;
  let topic: string;

  beforeAll(async () => {
    kafka = createKafka(config, 'sink-runner');
    topic = await createTestTopic(kafka, { partitions: 2 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` })),
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await deleteTestTopics(kafka, [topic]);
  });

  it.each([
    ['keeps its membership by heartbeating while the flush runs', 1_000, 0],
    ['rejoins from the committed offsets when the flush cost it its membership', 600_000, 1],
  ])(
    '%s',
    async (_label, heartbeatIntervalMs, minRestarts) => {
      const sink = new SlowSink();
      const registry = new Registry();
      const runner = new SinkRunner<string>({
        kafka,
        topic,
        groupId: uniqueName('test-sink-slow'),
        sink,
        decode: (bytes) => Promise.resolve(bytes.toString()),
        log,
        metricsRegistry: registry,
        sessionTimeoutMs: SESSION_MS,
        heartbeatIntervalMs,
      });
      await runner.start();
      try {
        await waitFor(() => sink.stored.size === RECORDS, {
          timeoutMs: 120_000,
          intervalMs: 250,
          description: `all ${RECORDS} records stored (${sink.stored.size} so far)`,
        });
        expect(runner.error).toBeUndefined();
        const restarts =
          (await registry.getSingleMetric('continuum_sink_restarts_total')?.get())?.values[0]
            ?.value ?? 0;
        if (minRestarts === 0) expect(restarts).toBe(0);
        else expect(restarts).toBeGreaterThanOrEqual(minRestarts);
      } finally {
        await runner.stop();
      }
    },
    150_000,
  );
});

/** Takes every record but `refuse` (a value its store cannot hold) and throws a bug at `bug`. */
class PickySink implements Sink<string> {
  readonly name = 'picky';
  readonly stored: string[] = [];
  private pending: string[] = [];

  private readonly faults: { refuse?: string; bug?: string };

  constructor(faults: { refuse?: string; bug?: string }) {
    this.faults = faults;
  }

  add(record: SinkRecord<string>): void {
    if (record.value === this.faults.refuse)
      throw new SinkRecordError(`value ${record.value} does not fit the store`);
    if (record.value === this.faults.bug)
      throw new TypeError('cannot read properties of undefined');
    this.pending.push(record.value);
  }

  flush(): Promise<{ written: number }> {
    this.stored.push(...this.pending);
    const written = this.pending.length;
    this.pending = [];
    return Promise.resolve({ written });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('sink runner, what a sink refuses and what is a bug', () => {
  let kafka: Kafka;
  const topics: string[] = [];

  beforeAll(() => {
    kafka = createKafka(config, 'sink-runner-faults');
  });
  afterAll(async () => {
    await deleteTestTopics(kafka, [...topics, ...topics.map(dlqTopic)]);
  });

  async function topicWith(values: string[]): Promise<string> {
    const topic = await createTestTopic(kafka, { partitions: 1 });
    topics.push(topic);
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: [{ topic: dlqTopic(topic), numPartitions: 1 }],
      })
      .finally(() => admin.disconnect());
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
    await producer.disconnect();
    return topic;
  }

  it('dead-letters a record the sink refuses (stage sink, its reason) and writes the rest', async () => {
    const topic = await topicWith(['a', 'b', 'c', 'd']);
    const sink = new PickySink({ refuse: 'b' });
    const runner = new SinkRunner<string>({
      kafka,
      topic,
      groupId: uniqueName('test-sink-picky'),
      sink,
      decode: (bytes) => Promise.resolve(bytes.toString()),
      log,
      metricsRegistry: new Registry(),
    });
    await runner.start();
    try {
      const [letter] = await waitForMessages(kafka, dlqTopic(topic), {
        count: 1,
        timeoutMs: 60_000,
      });
      await waitFor(() => sink.stored.length === 3, {
        timeoutMs: 60_000,
        description: 'the other three records stored',
      });
      expect(sink.stored).toEqual(['a', 'c', 'd']);
      expect(letter?.value?.toString()).toBe('b');
      const header = (name: string) => letter?.headers?.[name]?.toString();
      expect(header(DLQ_HEADERS.stage)).toBe('sink');
      expect(header(DLQ_HEADERS.errorCode)).toBe('SINK_RECORD_REFUSED');
      expect(runner.error).toBeUndefined();
    } finally {
      await runner.stop();
    }
  });

  it('stops on an exception of the sink’s own, commits nothing and dead-letters nothing', async () => {
    const topic = await topicWith(['a', 'b', 'c']);
    const sink = new PickySink({ bug: 'b' });
    const groupId = uniqueName('test-sink-buggy');
    let fatal: Error | undefined;
    const runner = new SinkRunner<string>({
      kafka,
      topic,
      groupId,
      sink,
      decode: (bytes) => Promise.resolve(bytes.toString()),
      log,
      metricsRegistry: new Registry(),
      onFatal: (err) => {
        fatal = err;
      },
    });
    await runner.start();
    try {
      await waitFor(() => fatal !== undefined, {
        timeoutMs: 60_000,
        description: 'the runner to stop',
      });
      expect(fatal?.message).toContain('sink picky failed on');
      expect(fatal?.message).toContain('cannot read properties of undefined');
      expect(sink.stored).toEqual([]);
      expect(await countRecords(kafka, dlqTopic(topic))).toBe(0);
      const admin = kafka.admin();
      await admin.connect();
      try {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        expect(offsets?.partitions.map((p) => p.offset)).toEqual(['-1']);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await runner.stop();
    }
  });
});

/** A store that is down for its first `failures` flushes: it keeps what it holds, as ours do. */
class DownSink implements Sink<string> {
  readonly name = 'down';
  readonly stored = new Set<string>();
  /** Records added while an earlier copy of them was still held (held twice). */
  heldTwice = 0;
  private pending = new Map<string, string>();
  private failures: number;

  constructor(failures: number) {
    this.failures = failures;
  }

  /** The store is back: the next flush passes. */
  recover(): void {
    this.failures = 0;
  }

  add(record: SinkRecord<string>): void {
    const at = `${record.partition}@${record.offset}`;
    if (this.pending.has(at)) this.heldTwice += 1;
    this.pending.set(at, record.value);
  }

  flush(): Promise<{ written: number }> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(
        new SinkWriteError('store unreachable (injected)', { retriable: true, context: {} }),
      );
    }
    for (const value of this.pending.values()) this.stored.add(value);
    const written = this.pending.size;
    this.pending.clear();
    return Promise.resolve({ written });
  }

  discard(): void {
    this.pending.clear();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('sink runner with a store that stays down', () => {
  it('holds each failed batch once: it is dropped and read again from the committed offsets', async () => {
    const kafka = createKafka(config, 'sink-runner-down');
    const topic = await createTestTopic(kafka, { partitions: 1 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` })),
    });
    await producer.disconnect();
    const sink = new DownSink(4);
    const registry = new Registry();
    const runner = new SinkRunner<string>({
      kafka,
      topic,
      groupId: uniqueName('test-sink-down'),
      sink,
      decode: (bytes) => Promise.resolve(bytes.toString()),
      log,
      metricsRegistry: registry,
      // No retries in place: every failed flush fails its batch, which is read again.
      maxFlushRetries: 0,
      retryBackoffMs: 10,
    });
    await runner.start();
    try {
      await waitFor(() => sink.stored.size === 300, {
        timeoutMs: 60_000,
        intervalMs: 100,
        description: `all 300 records stored (${sink.stored.size} so far)`,
      });
      expect(sink.heldTwice).toBe(0);
      const restarts =
        (await registry.getSingleMetric('continuum_sink_restarts_total')?.get())?.values[0]
          ?.value ?? 0;
      expect(restarts).toBeGreaterThanOrEqual(4);
      const held = (await registry.getSingleMetric('continuum_sink_held_records')?.get())?.values[0]
        ?.value;
      expect(held).toBe(0);
    } finally {
      await runner.stop();
      await deleteTestTopics(kafka, [topic]);
    }
  }, 90_000);

  it('reports itself not ready while flushes fail (/ready, flush retries counted), ready once the store is back', async () => {
    const kafka = createKafka(config, 'sink-runner-ready');
    const topic = await createTestTopic(kafka, { partitions: 1 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    const sink = new DownSink(Number.POSITIVE_INFINITY);
    const registry = new Registry();
    const runner = new SinkRunner<string>({
      kafka,
      topic,
      groupId: uniqueName('test-sink-ready'),
      sink,
      decode: (bytes) => Promise.resolve(bytes.toString()),
      log,
      metricsRegistry: registry,
      retryBackoffMs: 50,
    });
    expect(runner.readiness().ready).toBe(false);
    await runner.start();
    try {
      const down = await waitFor(
        () => {
          const r = runner.readiness();
          return r.detail?.waitingFor === 'store' ? r : undefined;
        },
        { timeoutMs: 60_000, description: 'the runner to report its store failing' },
      );
      expect(down.ready).toBe(false);
      expect(down.detail).toMatchObject({
        sink: 'down',
        lastError: 'store unreachable (injected)',
      });
      const retries = async (): Promise<number> =>
        (await registry.getSingleMetric('continuum_sink_flush_retries_total')?.get())?.values[0]
          ?.value ?? 0;
      await waitFor(async () => (await retries()) >= 2, {
        timeoutMs: 30_000,
        description: 'flush retries counted',
      });
      sink.recover();
      await waitFor(() => runner.readiness().ready, {
        timeoutMs: 60_000,
        description: 'the runner ready again',
      });
      await waitFor(() => sink.stored.size === 2, {
        timeoutMs: 60_000,
        description: `both records stored (${sink.stored.size} so far)`,
      });
      expect(runner.error).toBeUndefined();
    } finally {
      await runner.stop();
      await deleteTestTopics(kafka, [topic]);
    }
    expect(runner.readiness()).toMatchObject({ ready: false });
  }, 120_000);
});
