// StreamsApplication's commit logic against a small in-memory fake of our Kafka port: a store
// holds no write Kafka did not commit, and a transaction spans batches until the commit interval
// (or a rebalance) ends it.
import { Registry } from 'prom-client';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import type {
  GroupConsumerOptions,
  PartitionBatch,
  ProducedRecord,
  ReadRangesOptions,
  StreamsKafkaClient,
  TopicPartitionOffset,
} from './kafka-port.ts';
import type { Processor, ProcessorContext } from './processor.ts';
import type { StreamRecord } from './record.ts';
import { jsonSerde, stringSerde } from './serde.ts';
import type { KeyValueStore } from './state-store.ts';
import {
  isPersistent,
  StreamsApplication,
  type StreamsApplicationOptions,
} from './streams-application.ts';
import { changelogTopic, TopologyBuilder, type Topology } from './topology.ts';

class Sum implements Processor<string, number, string, number> {
  private context!: ProcessorContext<string, number>;
  private totals!: KeyValueStore<string, number>;
  init(context: ProcessorContext<string, number>): void {
    this.context = context;
    this.totals = context.getStateStore('totals');
  }
  process(record: StreamRecord<string, number>): void {
    const total = (this.totals.get(record.key) ?? 0) + record.value;
    this.totals.put(record.key, total);
    this.context.forward({ ...record, value: total });
  }
}

/** Sum, and how many records made it (a second store, so a commit writes two changelogs). */
class SumAndCount extends Sum {
  private counts!: KeyValueStore<string, number>;
  override init(context: ProcessorContext<string, number>): void {
    super.init(context);
    this.counts = context.getStateStore('counts');
  }
  override process(record: StreamRecord<string, number>): void {
    this.counts.put(record.key, (this.counts.get(record.key) ?? 0) + 1);
    super.process(record);
  }
}

function sumTopology(withCounts = false): Topology {
  const serdes = { key: stringSerde, value: jsonSerde<number>() };
  const builder = new TopologyBuilder('unit-sum')
    .addSource('in', 'in', serdes)
    .addProcessor('sum', () => (withCounts ? new SumAndCount() : new Sum()), ['in'])
    .addStateStore({ name: 'totals', serdes }, ['sum']);
  if (withCounts) builder.addStateStore({ name: 'counts', serdes }, ['sum']);
  return builder.addSink('out', 'out', serdes, ['sum']).build();
}

interface Committed {
  records: ProducedRecord[];
  offsets: TopicPartitionOffset[];
}

/** Kafka as far as the application can tell: committed transactions and nothing else. */
class FakeKafka implements StreamsKafkaClient {
  readonly kind = 'kafkajs' as const;
  consumer: GroupConsumerOptions | undefined;
  readonly committed: Committed[] = [];
  failNextCommit = false;
  /** Commits wait for it while it is set (holdCommits). */
  private commitGate: Promise<void> | undefined;
  /** at-least-once: each idempotent send (its topics) and offset commit, in order. */
  readonly atLeastOnceCalls: string[] = [];

  /** How many endOffsets calls for `topic`, from the next, never answer (no reply comes). */
  hangingEndOffsets = { topic: '', calls: 0 };
  /** endOffsets calls answered, per topic. */
  readonly endOffsetsAnswered = new Map<string, number>();
  /** Admins closed that had an endOffsets call which never answered. */
  hungAdminsClosed = 0;

  admin(): ReturnType<StreamsKafkaClient['admin']> {
    let hung = false;
    return Promise.resolve({
      partitionCounts: (topics) => Promise.resolve(new Map(topics.map((t) => [t, 1]))),
      listTopics: () => Promise.resolve([]),
      createTopics: () => Promise.resolve(),
      endOffsets: (topic) => {
        if (this.hangingEndOffsets.topic === topic && this.hangingEndOffsets.calls > 0) {
          this.hangingEndOffsets.calls -= 1;
          hung = true;
          return new Promise<never>(() => undefined);
        }
        this.endOffsetsAnswered.set(topic, (this.endOffsetsAnswered.get(topic) ?? 0) + 1);
        return Promise.resolve([
          { partition: 0, low: '0', high: String(this.written(topic).length) },
        ]);
      },
      topicConfigs: () => Promise.resolve(new Map()),
      setTopicConfigs: () => Promise.resolve(),
      deleteRecordsBefore: () => Promise.resolve(),
      deleteGroups: () => Promise.resolve(),
      committedOffsets: (_groupId, topics, partition) => {
        const committed = new Map<string, string>();
        for (const { offsets } of this.committed)
          for (const o of offsets)
            if (o.partition === partition && topics.includes(o.topic))
              committed.set(o.topic, o.offset);
        return Promise.resolve(committed);
      },
      close: () => {
        if (hung) this.hungAdminsClosed += 1;
        return Promise.resolve();
      },
    });
  }

  groupConsumer(options: GroupConsumerOptions): ReturnType<StreamsKafkaClient['groupConsumer']> {
    this.consumer = options;
    return Promise.resolve({
      commitOffsets: (offsets) => {
        this.atLeastOnceCalls.push(`commit ${offsets.map((o) => o.offset).join(',')}`);
        return Promise.resolve();
      },
      rewind: (offsets) => {
        this.atLeastOnceCalls.push(`rewind ${offsets.map((o) => o.offset).join(',')}`);
      },
      stop: () => Promise.resolve(),
    });
  }

  transactionalProducer(): ReturnType<StreamsKafkaClient['transactionalProducer']> {
    return Promise.resolve({
      begin: () => {
        const pending: Committed = { records: [], offsets: [] };
        return Promise.resolve({
          send: (records) => {
            pending.records.push(...records);
            return Promise.resolve();
          },
          sendOffsets: (_consumer, offsets) => {
            pending.offsets.push(...offsets);
            return Promise.resolve();
          },
          commit: async () => {
            await this.commitGate;
            if (this.failNextCommit) {
              this.failNextCommit = false;
              return Promise.reject(new Error('commit failed (injected)'));
            }
            this.committed.push(pending);
            return Promise.resolve();
          },
          abort: () => Promise.resolve(),
        });
      },
      close: () => Promise.resolve(),
    });
  }

  idempotentProducer(): ReturnType<StreamsKafkaClient['idempotentProducer']> {
    return Promise.resolve({
      send: (records) => {
        this.atLeastOnceCalls.push(`send ${[...new Set(records.map((r) => r.topic))].join(',')}`);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    });
  }

  /** A restore reads the committed changelog, as Kafka would hand it over. */
  async readRanges(options: ReadRangesOptions): Promise<void> {
    for (const range of options.ranges)
      await options.onBatch(
        range,
        this.written(range.topic).map((r, i) => ({
          offset: String(i),
          key: r.key,
          value: r.value,
          timestamp: r.timestamp,
        })),
      );
  }

  private written(topic: string): ProducedRecord[] {
    return this.committed.flatMap((c) => c.records.filter((r) => r.topic === topic));
  }

  follow(): ReturnType<StreamsKafkaClient['follow']> {
    return Promise.resolve({ caughtUp: Promise.resolve(), stop: () => Promise.resolve() });
  }

  /** Transaction commits wait until the returned function is called. */
  holdCommits(): () => void {
    let release: () => void = () => undefined;
    this.commitGate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.commitGate = undefined;
      release();
    };
  }

  /** Latest committed value per key written to `topic`. */
  latest(topic: string): Record<string, number> {
    const latest: Record<string, number> = {};
    for (const { records } of this.committed)
      for (const r of records)
        if (r.topic === topic && r.key && r.value)
          latest[r.key.toString()] = Number(r.value.toString());
    return latest;
  }
}

function batch(from: number, values: number[]): PartitionBatch {
  return {
    topic: 'in',
    partition: 0,
    records: values.map((v, i) => ({
      offset: String(from + i),
      key: Buffer.from('BER'),
      value: Buffer.from(String(v)),
      timestamp: 1_000 + from + i,
    })),
    nextOffset: String(from + values.length),
  };
}

/** What another owner of partition 0 committed: BER's total on the output and the changelog. */
function otherOwnersCommit(total: number, offset: string): Committed {
  const state = (topic: string): ProducedRecord => ({
    topic,
    partition: 0,
    key: Buffer.from('BER'),
    value: Buffer.from(String(total)),
    timestamp: 1,
  });
  return {
    records: [state('out'), state(changelogTopic('unit-sum', 'totals'))],
    offsets: [{ topic: 'in', partition: 0, offset }],
  };
}

/** Waits until `count` transactions have committed (commits run after the batch that made them due). */
async function committed(kafka: FakeKafka, count: number): Promise<void> {
  await waitFor(() => kafka.committed.length >= count, {
    timeoutMs: 5_000,
    intervalMs: 2,
    description: `${count} transactions committed`,
  });
}

async function started(
  commitIntervalMs: number,
  guarantee: 'exactly-once' | 'at-least-once' = 'exactly-once',
  options: Pick<StreamsApplicationOptions, 'atLeastOnceChangelogBytes'> = {},
): Promise<{ kafka: FakeKafka; app: StreamsApplication; consumer: GroupConsumerOptions }> {
  const kafka = new FakeKafka();
  const app = new StreamsApplication({
    topology: sumTopology(guarantee === 'at-least-once'),
    client: kafka,
    log: createLogger('silent'),
    guarantee,
    metricsRegistry: new Registry(),
    commitIntervalMs,
    ...options,
  });
  await app.start();
  const consumer = kafka.consumer;
  if (!consumer) throw new Error('no consumer');
  consumer.onAssigned([{ topic: 'in', partition: 0 }]);
  return { kafka, app, consumer };
}

describe('StreamsApplication commits', () => {
  it('keeps no store write of a transaction whose commit failed', async () => {
    const { kafka, app, consumer } = await started(0);
    await consumer.onBatch(batch(0, [5]));
    await committed(kafka, 1);
    kafka.failNextCommit = true;
    // The batch's commit runs after it, and fails: the task is discarded, and the partition's
    // next batch carries the failure, so that the consumer rewinds to the last commit.
    await consumer.onBatch(batch(1, [3]));
    await waitFor(() => app.partitions.length === 0, {
      timeoutMs: 5_000,
      description: 'the failed task discarded',
    });
    await expect(consumer.onBatch(batch(2, [4]))).rejects.toThrow('injected');
    // The consumer hands the failed batch over again; the task is created anew and restored
    // from the committed changelog.
    await consumer.onBatch(batch(1, [3]));
    await committed(kafka, 2);
    expect(kafka.latest('out')).toEqual({ BER: 8 });
    expect(kafka.latest(changelogTopic('unit-sum', 'totals'))).toEqual({ BER: 8 });
    expect(kafka.committed.at(-1)?.offsets).toEqual([{ topic: 'in', partition: 0, offset: '2' }]);
    await app.stop();
  });

  it('fails a batch that waited for the task behind a commit that failed, so that nothing skips the lost records', async () => {
    const { kafka, app, consumer } = await started(0);
    await consumer.onBatch(batch(0, [5]));
    await committed(kafka, 1);
    const release = kafka.holdCommits();
    kafka.failNextCommit = true;
    // The batch returns with its commit queued; the next batch waits for the task meanwhile.
    await consumer.onBatch(batch(1, [3]));
    const next = consumer.onBatch(batch(2, [4]));
    release();
    await expect(next).rejects.toThrow('injected');
    await waitFor(() => app.partitions.length === 0, {
      timeoutMs: 5_000,
      description: 'the failed task discarded',
    });
    // The consumer rewinds to offset 1: both records come again, and count once each.
    await consumer.onBatch(batch(1, [3, 4]));
    await committed(kafka, 2);
    expect(kafka.latest('out')).toEqual({ BER: 12 });
    expect(kafka.committed.map((c) => c.offsets.map((o) => o.offset).join())).toEqual(['1', '3']);
    await app.stop();
  });

  it('keeps one transaction across batches until the interval, and commits it at a rebalance', async () => {
    const { kafka, app, consumer } = await started(60_000);
    await consumer.onBatch(batch(0, [1, 2]));
    await consumer.onBatch(batch(2, [3]));
    expect(kafka.committed).toHaveLength(0);
    consumer.onAssigned([{ topic: 'in', partition: 0 }]);
    await waitFor(() => kafka.committed.length === 1, {
      timeoutMs: 5_000,
      description: 'the open transaction committed at the rebalance',
    });
    const [tx] = kafka.committed;
    expect(tx?.offsets).toEqual([{ topic: 'in', partition: 0, offset: '3' }]);
    // One changelog record per key and commit, not one per write.
    expect(
      tx?.records.filter((r) => r.topic === changelogTopic('unit-sum', 'totals')),
    ).toHaveLength(1);
    expect(kafka.latest('out')).toEqual({ BER: 6 });
    // Records the consumer repeats after the rebalance are not counted twice.
    await consumer.onBatch(batch(1, [2, 3, 4]));
    await app.stop();
    expect(kafka.latest('out')).toEqual({ BER: 10 });
    expect(kafka.committed.at(-1)?.offsets).toEqual([{ topic: 'in', partition: 0, offset: '4' }]);
  });

  it('creates a discarded task again with no further batch: an ended input still gets its wall-clock work', async () => {
    const { kafka, app, consumer } = await started(0);
    await consumer.onBatch(batch(0, [5]));
    await committed(kafka, 1);
    kafka.failNextCommit = true;
    await consumer.onBatch(batch(1, [3])); // its commit, after it, fails
    await waitFor(() => app.partitions.length === 0, {
      timeoutMs: 5_000,
      intervalMs: 5,
      description: 'the failed task discarded',
    });
    // No batch comes (the input has ended): the assigned partition gets its task back anyway.
    await waitFor(() => app.partitions.length === 1, {
      timeoutMs: 10_000,
      description: 'the missing task created again',
    });
    // Restored from the committed changelog: the failed transaction's write is not in it.
    await consumer.onBatch(batch(1, [3]));
    await committed(kafka, 2);
    expect(kafka.latest('out')).toEqual({ BER: 8 });
    await app.stop();
  });

  it('a task taking a partition over skips what an earlier owner committed after the consumer fetched its offsets', async () => {
    const { kafka, app, consumer } = await started(0);
    await consumer.onBatch(batch(0, [1, 2]));
    await committed(kafka, 1);
    // Another instance owned the partition meanwhile: it committed up to offset 4 (total 10)
    // while this consumer, rejoining, fetched offsets from before that commit.
    kafka.committed.push(otherOwnersCommit(10, '4'));
    kafka.failNextCommit = true;
    // The task's transaction fails (its producer fenced), so it is discarded and created anew.
    await consumer.onBatch(batch(2, [3]));
    await waitFor(() => app.partitions.length === 0, {
      timeoutMs: 5_000,
      description: 'the fenced task discarded',
    });
    await expect(consumer.onBatch(batch(3, [4]))).rejects.toThrow('injected');
    // The consumer hands over records from its stale offset 2: offsets 2 and 3 were the other
    // owner's, and only offset 4 is new.
    await consumer.onBatch(batch(2, [3, 4, 5]));
    await committed(kafka, 3);
    expect(kafka.latest('out')).toEqual({ BER: 15 });
    expect(kafka.committed.at(-1)?.offsets).toEqual([{ topic: 'in', partition: 0, offset: '5' }]);
    await app.stop();
  });

  it('a member that lost its membership keeps no task: what it had open is dropped, stores restart from the changelog', async () => {
    const { kafka, app, consumer } = await started(60_000);
    await consumer.onBatch(batch(0, [1, 2]));
    expect(kafka.committed).toHaveLength(0);
    // Paused past its session: another member ran the partition meanwhile, up to offset 4.
    kafka.committed.push(otherOwnersCommit(10, '4'));
    consumer.onLost?.();
    consumer.onAssigned([{ topic: 'in', partition: 0 }]);
    await waitFor(() => app.partitions.length === 1, {
      timeoutMs: 5_000,
      description: 'the task created afresh',
    });
    await consumer.onBatch(batch(4, [5]));
    await app.stop();
    // The stale open work (offsets 0–1, total 3) was never committed; the fresh task went on
    // from the other member's total.
    expect(kafka.latest('out')).toEqual({ BER: 15 });
    expect(kafka.committed.map((c) => c.offsets.map((o) => o.offset).join())).toEqual(['4', '5']);
  });

  it('commits an open transaction once the interval has passed, with no further batch', async () => {
    const { kafka, app, consumer } = await started(50);
    await consumer.onBatch(batch(0, [7]));
    await waitFor(() => kafka.committed.length === 1, {
      timeoutMs: 5_000,
      description: 'the timed commit',
    });
    expect(kafka.latest('out')).toEqual({ BER: 7 });
    await app.stop();
  });

  it('at-least-once: sends outputs with their batch, then all changelogs in one send, then offsets', async () => {
    // A process killed between two changelog sends could leave the counts restored ahead of
    // the totals; one send is one produce request per broker (kafka-port.ts), all or nothing.
    const { kafka, app, consumer } = await started(60_000, 'at-least-once');
    await consumer.onBatch(batch(0, [1, 2]));
    await consumer.onBatch(batch(2, [3]));
    expect(kafka.atLeastOnceCalls).toEqual(['send out', 'send out']);
    await app.stop();
    expect(kafka.atLeastOnceCalls).toEqual([
      'send out',
      'send out',
      `send ${changelogTopic('unit-sum', 'totals')},${changelogTopic('unit-sum', 'counts')}`,
      'commit 3',
    ]);
  });
});

describe('StreamsApplication at-least-once changelog flushes', () => {
  // 1,200 records of distinct keys in one batch: a slice of 500 counts as ~37 KiB per store.
  const wideBatch = (): PartitionBatch => ({
    ...batch(0, []),
    records: Array.from({ length: 1_200 }, (_, i) => ({
      offset: String(i),
      key: Buffer.from(`depot-${i}`),
      value: Buffer.from('1'),
      timestamp: 1_000 + i,
    })),
    nextOffset: '1200',
  });
  const changelogs = `send ${changelogTopic('unit-sum', 'totals')},${changelogTopic('unit-sum', 'counts')}`;

  it('commits mid-batch once a store holds the bytes of half a request, so each flush is one request', async () => {
    const { kafka, app, consumer } = await started(60_000, 'at-least-once', {
      atLeastOnceChangelogBytes: 24 * 1024,
    });
    await consumer.onBatch(wideBatch());
    expect(kafka.atLeastOnceCalls).toEqual([
      'send out',
      changelogs,
      'commit 500',
      'send out',
      changelogs,
      'commit 1000',
      'send out',
    ]);
    await app.stop();
    expect(kafka.atLeastOnceCalls.slice(7)).toEqual([changelogs, 'commit 1200']);
  });

  it('keeps one commit per interval while the changelog stays below that', async () => {
    const { kafka, app, consumer } = await started(60_000, 'at-least-once');
    await consumer.onBatch(wideBatch());
    expect(kafka.atLeastOnceCalls).toEqual(['send out', 'send out', 'send out']);
    await app.stop();
  });
});

describe('StreamsApplication input ends', () => {
  it('gives up a poll of the input ends that never answers: the next poll asks a new admin, and stop() does not wait for it', async () => {
    const kafka = new FakeKafka();
    kafka.hangingEndOffsets = { topic: 'in', calls: 1 };
    const app = new StreamsApplication({
      topology: sumTopology(),
      client: kafka,
      log: createLogger('silent'),
      guarantee: 'exactly-once',
      metricsRegistry: new Registry(),
      commitIntervalMs: 0,
      punctuationIntervalMs: 20,
      inputEndsPollDeadlineMs: 200,
    });
    await app.start();
    const consumer = kafka.consumer;
    if (!consumer) throw new Error('no consumer');
    consumer.onAssigned([{ topic: 'in', partition: 0 }]);
    await consumer.onBatch(batch(0, [5]));
    await waitFor(() => (kafka.endOffsetsAnswered.get('in') ?? 0) > 0, {
      timeoutMs: 5_000,
      intervalMs: 5,
      description: 'a poll after the one that never answered',
    });
    expect(kafka.hangingEndOffsets.calls).toBe(0);
    expect(kafka.hungAdminsClosed).toBe(1);
    // The first poll's promise never settles; stop() resolves all the same.
    await app.stop();
  });
});

describe('stores on disk: which stores, and where', () => {
  const serdes = { key: stringSerde, value: jsonSerde<number>() };
  const spec = { name: 's', serdes };

  it('is ready once its partitions have running tasks and its fetches complete; not before, not after stop', async () => {
    const { app, consumer } = await started(60_000);
    // Assigned, task starting or running, but nothing fetched yet.
    expect(app.readiness().ready).toBe(false);
    consumer.onFetched?.();
    await waitFor(() => app.readiness().ready, {
      timeoutMs: 5_000,
      description: 'the application ready',
    });
    expect(app.readiness().detail).toMatchObject({ application: 'unit-sum', partitions: [0] });
    // A partition given to it whose task is not there yet: not ready, and it says which.
    consumer.onAssigned([
      { topic: 'in', partition: 0 },
      { topic: 'in', partition: 1 },
    ]);
    const waiting = app.readiness();
    expect(waiting.ready).toBe(false);
    expect(waiting.detail?.waitingFor).toBe('tasks');
    await waitFor(() => app.readiness().ready, {
      timeoutMs: 5_000,
      description: 'both tasks running',
    });
    await app.stop();
    expect(app.readiness()).toMatchObject({ ready: false, detail: { waitingFor: 'stopped' } });
  });

  it('key-value stores with a changelog follow the default unless they say; versioned and unlogged ones stay in memory', () => {
    expect(isPersistent(spec, true)).toBe(true);
    expect(isPersistent(spec, false)).toBe(false);
    expect(isPersistent({ ...spec, persistent: true }, false)).toBe(true);
    expect(isPersistent({ ...spec, persistent: false }, true)).toBe(false);
    expect(isPersistent({ ...spec, persistent: true, changelog: false }, true)).toBe(false);
    expect(
      isPersistent({ ...spec, persistent: true, versioned: { historyRetentionMs: 1 } }, true),
    ).toBe(false);
  });

  it('refuses persistent stores without a state directory, naming them', () => {
    const create = (stateDir?: string): StreamsApplication =>
      new StreamsApplication({
        topology: sumTopology(true),
        client: {} as StreamsKafkaClient,
        log: createLogger('silent'),
        guarantee: 'exactly-once',
        metricsRegistry: new Registry(),
        persistentStores: true,
        stateDir,
      });
    expect(() => create()).toThrow(/stores totals, counts are persistent/);
    expect(() => create('/tmp/state')).not.toThrow();
  });
});
