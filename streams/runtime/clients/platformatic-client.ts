// The streams runtime's Kafka port on @platformatic/kafka (2.12). The group consumer reads the
// library's MessagesStream and cuts what is buffered into per-partition batches; ranges and
// followed topics are read with plain Fetch requests (no group), filtering aborted
// transactions ourselves (committedRecords). The library's own read_committed filter, which the
// group consumer relies on, let aborted records through (a producer aborting twice in one
// response, or an abort marker in a later response); patches/apply.mjs replaces it at install
// with the Java Fetcher's rule (test/integration/kafka-transactions.test.ts shows both).
import {
  Admin,
  compatibilityPartitioner,
  ConfigResourceTypes,
  Consumer,
  FetchIsolationLevels,
  IncrementalAlterConfigOperationTypes,
  ListOffsetTimestamps,
  type GroupPartitionsAssigner,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
  type Message,
  type MessagesStream,
  type MessageToProduce,
  type RecordsBatch,
} from '@platformatic/kafka';
import { randomBytes } from 'node:crypto';
import { ContinuumError, errorMessage } from '../../../core/errors.ts';
import type { KafkaClientConfig } from '../../../core/kafka-client.ts';
import type { Logger } from '../../../core/logger.ts';
import { waitFor } from '../../../core/wait-for.ts';
import {
  chunkRecords,
  DEFAULT_MAX_REQUEST_BYTES,
  type ConsumedRecord,
  type FollowOptions,
  type GroupConsumerOptions,
  type IdempotentProducer,
  type PartitionOffsets,
  type ProducedRecord,
  type PartitionRange,
  type ReadRangesOptions,
  type RecordHeaders,
  type StreamsAdmin,
  type StreamsClientOptions,
  type StreamsGroupConsumer,
  type StreamsKafkaClient,
  type StreamsTransaction,
  type TopicFollower,
  type TopicPartitionOffset,
  type TransactionalProducer,
} from '../kafka-port.ts';
import { stableCommittedOffsets } from './stable-committed-offsets.ts';
import { assertDependenciesPatched } from '../../../core/patched-dependencies.ts';
import { readCommitted } from '../../../core/read-committed.ts';

/** A call into @platformatic/kafka failed; the message names the broker's error codes. */
export class PlatformaticKafkaError extends ContinuumError {
  override readonly code = 'KAFKA_CLIENT_FAILED';
}

/** Runs a library call, rethrowing its failure with the protocol error ids spelled out. */
async function call<T>(
  operation: string,
  context: Record<string, unknown>,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ContinuumError) throw err;
    const nested = (err as { errors?: unknown[] }).errors ?? [];
    const ids = nested
      .map((e) => (e as { apiId?: string; message?: string }).apiId ?? (e as Error).message)
      .filter(Boolean);
    throw new PlatformaticKafkaError(
      `${operation} failed: ${errorMessage(err)}${ids.length > 0 ? ` [${ids.join(', ')}]` : ''}`,
      {
        cause: err,
        retriable: (err as { canRetry?: boolean }).canRetry ?? false,
        context: { ...context, errors: ids },
      },
    );
  }
}

/** Waits out a broker hiccup before trying again (not a synchronization). */
function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * 2 ** attempt)));
}

const FETCH_MAX_BYTES = 16 * 1024 * 1024;
/** A range read fails once its position has not moved for this long (however long it has read). */
const RESTORE_STALL_MS = 120_000;

export class PlatformaticStreamsClient implements StreamsKafkaClient {
  readonly kind = 'platformatic' as const;
  private readonly config: KafkaClientConfig;
  private readonly log: Logger;
  private readonly maxRequestBytes: number;

  constructor(options: StreamsClientOptions) {
    assertDependenciesPatched();
    this.config = options.config;
    this.log = options.log.child({ component: 'platformatic-kafka' });
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  }

  /** Options every client of ours shares. */
  base(role: string): { clientId: string; bootstrapBrokers: string[] } {
    return {
      clientId: `${this.config.kafka.clientId}-streams-${role}`,
      bootstrapBrokers: [...this.config.kafka.brokers],
    };
  }

  /** A consumer that never joins a group: for metadata, offsets and plain fetches. */
  private standalone(role: string): Consumer {
    return new Consumer({
      ...this.base(role),
      groupId: `continuum-standalone-${randomBytes(6).toString('hex')}`,
      autocommit: false,
    });
  }

  admin(): Promise<StreamsAdmin> {
    const admin = new Admin(this.base('admin'));
    const lister = this.standalone('admin-offsets');
    const close = async (): Promise<void> => {
      await Promise.allSettled([admin.close(), lister.close()]);
    };
    return Promise.resolve({
      partitionCounts: async (topics) => {
        if (topics.length === 0) return new Map();
        const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
        return new Map(
          [...metadata.topics].map(([name, t]) => [name, t.partitionsCount] as [string, number]),
        );
      },
      listTopics: () => admin.listTopics(),
      createTopics: async (topics) => {
        for (const t of topics) {
          await admin.createTopics({
            topics: [t.topic],
            partitions: t.partitions,
            replicas: -1,
            configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
          });
        }
        const names = topics.map((t) => t.topic);
        if (names.length === 0) return;
        await waitFor(
          async () => {
            const metadata = await admin
              .metadata({ topics: names, forceUpdate: true })
              .catch(() => undefined);
            return names.every((name) => {
              const t = metadata?.topics.get(name);
              return t !== undefined && t.partitions.every((p) => p.leader >= 0);
            });
          },
          { timeoutMs: 30_000, description: `leaders of ${names.join(', ')}` },
        );
      },
      topicConfigs: async (topics, names) => {
        if (topics.length === 0) return new Map();
        const described = await admin.describeConfigs({
          resources: topics.map((resourceName) => ({
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName,
            configurationKeys: [...names],
          })),
        });
        return new Map(
          described.map((d) => [
            d.resourceName,
            Object.fromEntries(d.configs.map((c) => [c.name, c.value ?? ''])),
          ]),
        );
      },
      setTopicConfigs: async (topic, configs) => {
        await admin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: topic,
              configs: Object.entries(configs).map(([name, value]) => ({
                name,
                value,
                configOperation: IncrementalAlterConfigOperationTypes.SET,
              })),
            },
          ],
        });
      },
      endOffsets: (topic) => endOffsets(lister, topic),
      deleteRecordsBefore: async (offsets) => {
        const topics = new Map<string, { partition: number; offset: bigint }[]>();
        for (const { topic, partition, offset } of offsets)
          topics.set(topic, [...(topics.get(topic) ?? []), { partition, offset: BigInt(offset) }]);
        await admin.deleteRecords({
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        });
      },
      deleteGroups: async (groupIds) => {
        await admin.deleteGroups({ groups: [...groupIds] });
      },
      committedOffsets: (groupId, topics, partition) =>
        stableCommittedOffsets(admin, groupId, topics, partition),
      close,
    });
  }

  async groupConsumer(options: GroupConsumerOptions): Promise<StreamsGroupConsumer> {
    const consumer = new PlatformaticGroupConsumer(this, options, this.log);
    await consumer.start();
    return consumer;
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = new PlatformaticTransactionalProducer(this, transactionalId, this.send);
    await producer.init();
    return producer;
  }

  async idempotentProducer(): Promise<IdempotentProducer> {
    const producer = new Producer({
      ...this.base('producer'),
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      partitioner: javaPartitioner(),
    });
    await call('InitProducerId', { role: 'idempotent' }, () => producer.initIdempotentProducer({}));
    return {
      send: (records) => this.send(records, (messages) => producer.send({ messages })),
      close: () => producer.close(),
    };
  }

  /** Sends in order, in requests below maxRequestBytes (one per broker each, all topics in it). */
  readonly send = async (
    records: readonly ProducedRecord[],
    send: (messages: MessageToProduce[]) => Promise<unknown>,
  ): Promise<void> => {
    for (const chunk of chunkRecords(records, this.maxRequestBytes))
      await send(chunk.map(toMessage));
  };

  async readRanges(options: ReadRangesOptions): Promise<void> {
    // No group to join here, so one range after the other costs nothing extra.
    for (const range of options.ranges)
      await this.readRange(range, (records) => options.onBatch(range, records));
  }

  private async readRange(
    options: PartitionRange,
    onBatch: (records: ConsumedRecord[]) => Promise<void>,
  ): Promise<void> {
    const end = BigInt(options.to);
    const reader = new PartitionReader(this.standalone('restore'), options.topic, this.log);
    try {
      const metadata = await reader.consumer.metadata({ topics: [options.topic] });
      const low = (await endOffsets(reader.consumer, options.topic)).find(
        (o) => o.partition === options.partition,
      )?.low;
      let position = BigInt(low ?? '0');
      if (options.from !== undefined && BigInt(options.from) > position)
        position = BigInt(options.from);
      let current = metadata;
      // No limit on how long the read takes, only on how long it stands still.
      let movedAt = Date.now();
      for (let failures = 0; position < end;) {
        if (Date.now() - movedAt > RESTORE_STALL_MS)
          throw new ContinuumError(
            `restore of ${options.topic}-${options.partition} stood still at ${position} (end ${end}) for ${RESTORE_STALL_MS / 1000} s`,
            { retriable: true, context: { topic: options.topic, partition: options.partition } },
          );
        try {
          const fetched = await reader.fetch(current, new Map([[options.partition, position]]));
          const got = fetched.get(options.partition);
          if (!got) continue;
          if (got.records.length > 0) await onBatch(got.records);
          if (got.next > position) movedAt = Date.now();
          position = got.next;
          failures = 0;
        } catch (err) {
          if (++failures > 10) throw err;
          this.log.warn(
            { topic: options.topic, partition: options.partition, err: errorMessage(err) },
            'restore fetch failed; retrying',
          );
          await backOff(failures);
          current = await reader.consumer.metadata({ topics: [options.topic], forceUpdate: true });
        }
      }
    } finally {
      await reader.consumer.close();
    }
  }

  async follow(options: FollowOptions): Promise<TopicFollower> {
    const reader = new PartitionReader(this.standalone('follow'), options.topic, this.log);
    const offsets = await endOffsets(reader.consumer, options.topic);
    const ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    const positions = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]));
    let stopped = false;
    let markCaughtUp: () => void = () => undefined;
    let failCaughtUp: (error: Error) => void = () => undefined;
    const caughtUp = new Promise<void>((resolve, reject) => {
      markCaughtUp = resolve;
      failCaughtUp = reject;
    });
    caughtUp.catch(() => undefined);
    const isCaughtUp = (): boolean =>
      [...ends].every(([partition, end]) => (positions.get(partition) ?? 0n) >= end);
    if (isCaughtUp()) markCaughtUp();
    const loop = (async () => {
      let metadata = await reader.consumer.metadata({ topics: [options.topic] });
      while (!stopped) {
        try {
          const fetched = await reader.fetch(metadata, positions);
          for (const [partition, got] of fetched) {
            if (got.records.length > 0) await options.onRecords(partition, got.records);
            positions.set(partition, got.next);
          }
          if (isCaughtUp()) markCaughtUp();
        } catch (err) {
          if (stopped) return;
          this.log.warn(
            { topic: options.topic, err: errorMessage(err) },
            'following a topic: fetch failed; retrying',
          );
          await backOff(1);
          metadata = await reader.consumer.metadata({ topics: [options.topic], forceUpdate: true });
        }
      }
    })();
    loop.catch((err: unknown) => failCaughtUp(err instanceof Error ? err : new Error(String(err))));
    return {
      caughtUp,
      stop: async () => {
        stopped = true;
        await loop.catch(() => undefined);
        await reader.consumer.close();
      },
    };
  }
}

/**
 * Java's (and kafkajs's) partitioner, so a key lands on the same partition whichever adapter
 * wrote it; the library's default masks murmur2 differently. Keyless records go round-robin.
 */
function javaPartitioner(): (message: MessageToProduce, key: Buffer | undefined) => number {
  let next = 0;
  return (message, key) =>
    key === undefined ? next++ : compatibilityPartitioner(message as never, key);
}

/**
 * A task is a partition number across all input topics (they are co-partitioned), so a member
 * must get partition p of every topic or of none; the library's round robin deals
 * topic-partitions out one by one and would split a task between members.
 */
const coPartitionedAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const ids = [...members.keys()].sort();
  const assignments = ids.map((memberId) => ({
    memberId,
    assignments: new Map<string, { topic: string; partitions: number[] }>(),
  }));
  for (const topic of topics) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let partition = 0; partition < count; partition++) {
      const owner = assignments[partition % assignments.length];
      if (!owner) continue;
      const entry = owner.assignments.get(topic) ?? { topic, partitions: [] };
      entry.partitions.push(partition);
      owner.assignments.set(topic, entry);
    }
  }
  return assignments;
};

function toMessage(record: ProducedRecord): MessageToProduce {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value === undefined) continue;
    // A Map keeps one value per name; our headers carry one (kafkajs's arrays never arise here).
    const single = Array.isArray(value) ? value[0] : value;
    if (single === undefined) continue;
    headers.set(Buffer.from(name), Buffer.isBuffer(single) ? single : Buffer.from(single));
  }
  return {
    topic: record.topic,
    partition: record.partition,
    key: record.key ?? undefined,
    value: record.value ?? undefined,
    timestamp: BigInt(record.timestamp),
    headers,
  };
}

async function endOffsets(consumer: Consumer, topic: string): Promise<PartitionOffsets[]> {
  const [lows, highs] = await Promise.all([
    consumer.listOffsets({
      topics: [topic],
      timestamp: ListOffsetTimestamps.EARLIEST,
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
    }),
    consumer.listOffsets({
      topics: [topic],
      timestamp: ListOffsetTimestamps.LATEST,
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
    }),
  ]);
  const high = highs.get(topic) ?? [];
  return (lows.get(topic) ?? []).map((low, partition) => ({
    partition,
    low: low.toString(),
    high: (high[partition] ?? low).toString(),
  }));
}

type ClusterMetadata = Awaited<ReturnType<Consumer['metadata']>>;
type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

/** Plain read_committed Fetch requests for some partitions of one topic, no group involved. */
class PartitionReader {
  readonly consumer: Consumer;
  private readonly topic: string;
  private readonly log: Logger;

  constructor(consumer: Consumer, topic: string, log: Logger) {
    this.consumer = consumer;
    this.topic = topic;
    this.log = log;
  }

  /** Records from each position (per partition) and the position after what was fetched. */
  async fetch(
    metadata: ClusterMetadata,
    positions: ReadonlyMap<number, bigint>,
  ): Promise<Map<number, { records: ConsumedRecord[]; next: bigint }>> {
    const topicMetadata = metadata.topics.get(this.topic);
    if (!topicMetadata) throw new ContinuumError(`no metadata for topic ${this.topic}`);
    const byNode = new Map<number, { partition: number; fetchOffset: bigint }[]>();
    for (const [partition, fetchOffset] of positions) {
      const leader = topicMetadata.partitions[partition]?.leader ?? -1;
      const list = byNode.get(leader) ?? [];
      list.push({ partition, fetchOffset });
      byNode.set(leader, list);
    }
    const result = new Map<number, { records: ConsumedRecord[]; next: bigint }>();
    await Promise.all(
      [...byNode].map(async ([node, partitions]) => {
        const response = await this.consumer.fetch({
          node,
          maxWaitTime: 200,
          minBytes: 1,
          maxBytes: FETCH_MAX_BYTES,
          isolationLevel: FetchIsolationLevels.READ_COMMITTED,
          topics: [
            {
              topicId: topicMetadata.id,
              partitions: partitions.map((p) => ({
                partition: p.partition,
                fetchOffset: p.fetchOffset,
                partitionMaxBytes: FETCH_MAX_BYTES,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
        });
        for (const topic of response.responses) {
          for (const p of topic.partitions) {
            if (p.errorCode !== 0)
              throw new PlatformaticKafkaError(
                `fetch of ${this.topic}-${p.partitionIndex} failed with error code ${p.errorCode}`,
                {
                  retriable: true,
                  context: {
                    topic: this.topic,
                    partition: p.partitionIndex,
                    errorCode: p.errorCode,
                  },
                },
              );
            const from = positions.get(p.partitionIndex);
            if (from === undefined) continue;
            result.set(
              p.partitionIndex,
              committedRecords(p.records ?? [], p.abortedTransactions ?? [], from),
            );
          }
        }
      }),
    );
    return result;
  }
}

/** The committed records of a read_committed fetch (core/read-committed.ts), as the port's. */
export function committedRecords(
  batches: readonly RecordsBatch[],
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[],
  from: bigint,
): { records: ConsumedRecord[]; next: bigint } {
  const { records, next } = readCommitted(batches, abortedTransactions, from);
  return {
    records: records.map(({ offset, batch, record }) => ({
      offset: offset.toString(),
      key: record.key,
      value: record.value,
      timestamp: Number(batch.firstTimestamp + record.timestampDelta),
      headers: headersOf(record.headers),
    })),
    next,
  };
}

function headersOf(entries: Iterable<[Buffer | null, Buffer | null]>): RecordHeaders {
  const headers: RecordHeaders = {};
  for (const [name, value] of entries) {
    if (name === null) continue;
    const key = name.toString();
    const existing = headers[key];
    const v = value ?? Buffer.alloc(0);
    headers[key] =
      existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return headers;
}

/**
 * One transactional producer per task. The library inits the producer id (InitProducerId, which
 * fences older producers with the id) on the first beginTransaction, so init() begins and cancels
 * a client-side transaction. After a failed transaction it refuses to begin another: the
 * runtime creates the task anew, and its new producer's InitProducerId aborts what is left open.
 */
class PlatformaticTransactionalProducer implements TransactionalProducer {
  private readonly client: PlatformaticStreamsClient;
  private readonly transactionalId: string;
  private readonly sendChunked: PlatformaticStreamsClient['send'];
  private producer: Producer | undefined;
  private broken = false;

  constructor(
    client: PlatformaticStreamsClient,
    transactionalId: string,
    send: PlatformaticStreamsClient['send'],
  ) {
    this.client = client;
    this.transactionalId = transactionalId;
    this.sendChunked = send;
  }

  async init(): Promise<void> {
    const producer = new Producer({
      ...this.client.base('tx'),
      transactionalId: this.transactionalId,
      // The library sends InitProducerId with producer id 0 and epoch 0 unless told otherwise
      // (dist/clients/producer/producer.js, #initIdempotentProducer: `options.producerId ??
      // this[kOptions].producerId ?? 0n`); the broker takes those as "this is producer 0 at epoch
      // 0" and answers PRODUCER_FENCED whenever the id already exists, so a restarted task could
      // never take its transactional id over. -1/-1 is "a new producer": fence the others.
      producerId: -1n,
      producerEpoch: -1,
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      partitioner: javaPartitioner(),
    });
    this.producer = producer;
    await call('InitProducerId', { transactionalId: this.transactionalId }, async () => {
      const transaction = await producer.beginTransaction();
      await transaction.cancel();
    });
    this.broken = false;
  }

  async begin(): Promise<StreamsTransaction> {
    // The runtime replaces a task (and its producer) after a failed transaction; a new
    // InitProducerId here would fence the other instance without restoring the task's stores.
    if (this.broken)
      throw new PlatformaticKafkaError(
        `producer ${this.transactionalId} failed in an earlier transaction`,
        { context: { transactionalId: this.transactionalId } },
      );
    const producer = this.producer;
    if (!producer) throw new ContinuumError(`producer ${this.transactionalId} not initialized`);
    const context = { transactionalId: this.transactionalId };
    const transaction = await call('begin transaction', context, () => producer.beginTransaction());
    const guard = async <T>(work: () => Promise<T>): Promise<T> => {
      try {
        return await call('transaction', context, work);
      } catch (err) {
        this.broken = true;
        throw err;
      }
    };
    return {
      send: (records) =>
        guard(() => this.sendChunked(records, (messages) => transaction.send({ messages }))),
      sendOffsets: (consumer, offsets) =>
        guard(async () => {
          if (!(consumer instanceof PlatformaticGroupConsumer))
            throw new TypeError('sendOffsets needs a platformatic group consumer');
          await consumer.addOffsetsTo(transaction, offsets);
        }),
      commit: () => guard(() => transaction.commit()),
      abort: async () => {
        if (transaction.completed) return;
        try {
          await call('abort', context, () => transaction.abort());
        } catch (err) {
          this.broken = true;
          await transaction.cancel().catch(() => undefined);
          throw err;
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.producer?.close(true);
  }
}

/** A member of the application's group; batches are cut from what the stream has buffered. */
class PlatformaticGroupConsumer implements StreamsGroupConsumer {
  private readonly client: PlatformaticStreamsClient;
  private readonly options: GroupConsumerOptions;
  private readonly log: Logger;
  private consumer: Consumer | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Next offset to hand over per `topic:partition`: a re-fetch after a rebalance repeats some. */
  private readonly positions = new Map<string, bigint>();
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A rewind was asked for: the consumer restarts from the committed offsets (see rewind). */
  private rewindRequested: Error | undefined;
  /** Restarts since the last batch that went through. */
  private failures = 0;
  /**
   * The member id of the last join. Another one at the next join means the membership was lost:
   * the coordinator expelled the member (a session that expired; the library rejoins with a new
   * id) or the consumer was restarted from the committed offsets (a new member altogether).
   */
  private memberId: string | undefined;

  constructor(client: PlatformaticStreamsClient, options: GroupConsumerOptions, log: Logger) {
    this.client = client;
    this.options = options;
    this.log = log;
  }

  async start(): Promise<void> {
    await this.connect();
    this.running = this.run();
  }

  private async connect(): Promise<void> {
    const { options } = this;
    const consumer = new Consumer({
      ...this.client.base('group'),
      groupId: options.groupId,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 5)),
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 30_000),
      partitionAssigner: coPartitionedAssigner,
      maxWaitTime: 100,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
    consumer.on('consumer:group:join', ({ memberId, assignments }) => {
      // Another member may have run our tasks meanwhile: none may be kept (Kafka Streams'
      // handleLostAll), as the kafkajs adapter does.
      if (this.memberId !== undefined && memberId !== this.memberId) {
        this.log.warn(
          { previousMemberId: this.memberId, memberId },
          'the group membership was lost; every task is dropped before the new assignment',
        );
        options.onLost?.();
      }
      this.memberId = memberId;
      const assigned = (assignments ?? []).flatMap((a) =>
        a.partitions.map((partition) => ({ topic: a.topic, partition })),
      );
      const keep = new Set(assigned.map((tp) => `${tp.topic}:${tp.partition}`));
      for (const key of [...this.positions.keys()]) if (!keep.has(key)) this.positions.delete(key);
      options.onAssigned(assigned);
    });
    consumer.on('error', (err: Error) =>
      this.log.warn({ err: err.message }, 'consumer reported an error'),
    );
    this.consumer = consumer;
    const stream = await consumer.consume({
      topics: [...options.topics],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 5)),
    });
    // An error destroys the stream; drain() sees it (stream.errored) and restarts. Without a
    // listener it would be an uncaught exception.
    stream.on('error', (err: Error) => {
      this.log.warn({ err: err.message }, 'consumer stream failed');
      this.wakeUp();
    });
    // One 'readable' listener for the stream's life: removing the last one sets the stream's
    // flowing state back to null, and the library stops fetching for a stream nobody reads.
    stream.on('readable', () => this.wakeUp());
    // Emitted after every fetch response, failed ones too: a failed fetch destroys the stream
    // (drain() restarts the consumer), so a run of them does not last.
    stream.on('fetch', () => {
      options.onFetched?.();
      // The response's records are pushed right after this event: look once they are. With
      // nothing buffered and drain() idle, every record below the next fetch positions was
      // processed or was a marker (a response of only those never wakes drain()).
      setImmediate(() => {
        if (this.stream === stream && this.wake !== undefined && stream.readableLength === 0)
          this.reportPositions(new Map(stream.offsetsToFetch));
      });
    });
    stream.on('end', () => this.wakeUp());
    stream.on('close', () => this.wakeUp());
    this.stream = stream;
  }

  /** Hands over batches until stopped; a failed batch restarts from the committed offsets. */
  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const stream = this.stream;
        if (!stream) throw new ContinuumError('consumer stream not started');
        await this.drain(stream);
      } catch (err) {
        if (this.stopped) return;
        if (this.options.isFatal(err)) {
          this.stopped = true;
          await this.close();
          this.options.onFatal(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        this.log.warn(
          { err: errorMessage(err) },
          'consumer failed; restarting from committed offsets',
        );
        await this.close();
        this.positions.clear();
        this.failures += 1;
        // Backs off like kafkajs's restart: a failure that repeats must not spin the group.
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(10_000, 300 * 2 ** this.failures)),
        );
        if (this.stopped) return;
        await this.connectWithRetry();
      }
    }
  }

  private async connectWithRetry(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.connect();
        return;
      } catch (err) {
        this.log.warn({ err: errorMessage(err), attempt }, 'consumer restart failed; retrying');
        await this.close();
        await backOff(attempt);
      }
    }
  }

  private async drain(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
    for (;;) {
      const rewind = this.rewindRequested;
      if (rewind) {
        this.rewindRequested = undefined;
        throw rewind;
      }
      const messages: Message[] = [];
      for (let m = stream.read() as Message | null; m !== null; m = stream.read() as Message | null)
        messages.push(m);
      if (messages.length === 0) {
        if (stream.errored) throw stream.errored;
        if (this.stopped) return;
        if (stream.readableEnded || stream.destroyed || stream.closed)
          throw new ContinuumError('consumer stream ended');
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      // Taken right after draining: everything below these positions is in `messages` or was a
      // transaction marker / aborted record, so committing them, not just the last record's
      // offset + 1, also steps over the marker (consumer lag reaches 0, as with kafkajs).
      const fetched = new Map(stream.offsetsToFetch);
      const batches = new Map<string, Message[]>();
      for (const m of messages) {
        const key = `${m.topic}:${m.partition}`;
        const list = batches.get(key) ?? [];
        list.push(m);
        batches.set(key, list);
      }
      for (const [key, list] of batches) {
        if (this.stopped) return;
        const first = list[0];
        if (!first || !this.isAssigned(first.topic, first.partition)) continue;
        // Offsets only go up: a re-fetch after a rebalance can repeat buffered records.
        let expected = this.positions.get(key) ?? -1n;
        const records = list.filter((m) => {
          if (m.offset < expected) return false;
          expected = m.offset + 1n;
          return true;
        });
        const last = records.at(-1);
        if (!last) continue;
        const fetchedTo = fetched.get(key) ?? 0n;
        const next = fetchedTo > last.offset + 1n ? fetchedTo : last.offset + 1n;
        await this.options.onBatch({
          topic: first.topic,
          partition: first.partition,
          records: records.map((m) => ({
            offset: m.offset.toString(),
            key: m.key ?? null,
            value: m.value ?? null,
            timestamp: Number(m.timestamp),
            headers: headersOf(m.headerEntries),
          })),
          nextOffset: next.toString(),
        });
        this.positions.set(key, next);
        this.failures = 0;
      }
      this.reportPositions(fetched);
    }
  }

  /** Positions below which every record of an assigned partition was processed (onRead). */
  private reportPositions(fetched: ReadonlyMap<string, bigint>): void {
    if (!this.options.onRead) return;
    for (const [key, offset] of fetched) {
      const at = key.lastIndexOf(':');
      const topic = key.slice(0, at);
      const partition = Number(key.slice(at + 1));
      if (!this.isAssigned(topic, partition)) continue;
      this.options.onRead({ topic, partition, nextOffset: offset.toString() });
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private isAssigned(topic: string, partition: number): boolean {
    return (this.consumer?.assignments ?? []).some(
      (a) => a.topic === topic && a.partitions.includes(partition),
    );
  }

  /** TxnOffsetCommit with the member's generation: a member that lost the group is refused. */
  async addOffsetsTo(
    transaction: Transaction,
    offsets: readonly TopicPartitionOffset[],
  ): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new ContinuumError('consumer not connected');
    await transaction.addConsumer(consumer);
    for (const { topic, partition, offset } of offsets) {
      // The library commits message.offset + 1 for the message's group, generation and member.
      const message = {
        topic,
        partition,
        offset: BigInt(offset) - 1n,
        metadata: {
          consumer: {
            groupId: consumer.groupId,
            generationId: consumer.generationId,
            memberId: consumer.memberId,
            coordinatorId: consumer.coordinatorId,
          },
        },
      } as unknown as Message;
      await transaction.addOffset(message);
    }
  }

  /**
   * The library's stream has no seek: the consumer restarts from the committed offsets, which
   * rewinds every partition (the restart is a new member, so the runtime drops all its tasks).
   */
  rewind(offsets: readonly TopicPartitionOffset[]): void {
    this.rewindRequested = new ContinuumError('rewinding to the committed offsets', {
      retriable: true,
      context: { partitions: offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`) },
    });
    this.wakeUp();
  }

  async commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) throw new ContinuumError('consumer not connected');
    await consumer.commit({
      offsets: offsets.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: BigInt(o.offset),
        leaderEpoch: -1,
      })),
    });
  }

  private async close(): Promise<void> {
    const stream = this.stream;
    const consumer = this.consumer;
    this.stream = undefined;
    this.consumer = undefined;
    await stream?.close().catch(() => undefined);
    await consumer?.close(true).catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err) }, 'consumer close failed');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp();
    await this.close();
    await this.running?.catch(() => undefined);
  }
}
