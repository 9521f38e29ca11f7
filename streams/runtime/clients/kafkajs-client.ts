// The streams runtime's Kafka port on kafkajs (the design's client). kafkajs has no assign-style
// reader, so ranges and followed topics are read through throwaway consumer groups, deleted after.
import { randomBytes } from 'node:crypto';
import kafkajs, {
  AssignerProtocol,
  type Consumer,
  type Kafka,
  type KafkaMessage,
  type Message,
  type TopicMessages,
  type PartitionAssigner,
} from 'kafkajs';
import { disconnectForGood } from '../../../core/consumer-stop.ts';
import { createTopicsWithLeaders } from '../../../core/create-topics.ts';
import { createKafkaClient, type KafkaClientConfig } from '../../../core/kafka-client.ts';
import type { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { Logger } from '../../../core/logger.ts';
import { ContinuumError, errorMessage, TimeoutError } from '../../../core/errors.ts';
import { waitFor } from '../../../core/wait-for.ts';
import { Murmur2Partitioner } from '../../../core/murmur2-partitioner.ts';
import { stableCommittedOffsets, stableOffsetsAdmin } from './stable-committed-offsets.ts';
import {
  chunkRecords,
  DEFAULT_MAX_REQUEST_BYTES,
  type ConsumedRecord,
  type FollowOptions,
  type GroupConsumerOptions,
  type IdempotentProducer,
  type NewTopic,
  type PartitionOffsets,
  type ProducedRecord,
  type ReadRangesOptions,
  type StreamsAdmin,
  type StreamsClientOptions,
  type StreamsGroupConsumer,
  type StreamsKafkaClient,
  type StreamsTransaction,
  type TopicFollower,
  type TopicPartitionOffset,
  type TransactionalProducer,
} from '../kafka-port.ts';

// Node's ESM view of kafkajs (CommonJS) names only some of its exports; these come by default.
const { ConfigResourceTypes, ConfigSource } = kafkajs;
/** A throwaway reader fails once nothing has arrived for this long (however long it has read). */
const READER_STALL_MS = 120_000;

export class KafkajsStreamsClient implements StreamsKafkaClient {
  readonly kind = 'kafkajs' as const;
  readonly kafka: Kafka;
  private readonly config: KafkaClientConfig;
  private readonly log: Logger;
  private readonly maxRequestBytes: number;

  constructor(options: StreamsClientOptions & { kafka?: Kafka }) {
    this.config = options.config;
    this.log = options.log;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.kafka = options.kafka ?? createKafkaClient(options.config, 'streams', options.log);
  }

  async admin(): Promise<StreamsAdmin> {
    const admin = this.kafka.admin();
    let stable: PlatformaticAdmin | undefined;
    try {
      await admin.connect();
    } catch (err) {
      // A connect that failed half way (one broker down) may keep the connections it made: a
      // process that asked for an admin during an outage then never exited after its stop.
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
    return {
      partitionCounts: async (topics) => {
        if (topics.length === 0) return new Map();
        const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
        return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
      },
      listTopics: () => admin.listTopics(),
      createTopics: async (topics: readonly NewTopic[]) => {
        await createTopicsWithLeaders(
          admin,
          topics.map((t) => ({
            topic: t.topic,
            numPartitions: t.partitions,
            configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({
              name,
              value,
            })),
          })),
        );
      },
      topicConfigs: async (topics, names) => {
        if (topics.length === 0) return new Map();
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: topics.map((name) => ({
            type: ConfigResourceTypes.TOPIC,
            name,
            configNames: [...names],
          })),
        });
        return new Map(
          resources.map((r) => [
            r.resourceName,
            Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
          ]),
        );
      },
      setTopicConfigs: async (topic, configs) => {
        // kafkajs has only AlterConfigs, which replaces a topic's whole dynamic config (no
        // IncrementalAlterConfigs): send the configs it has, with ours over them.
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
        });
        const merged = new Map(
          (resources[0]?.configEntries ?? [])
            .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive)
            .map((e) => [e.configName, e.configValue]),
        );
        for (const [name, value] of Object.entries(configs)) merged.set(name, value);
        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: topic,
              configEntries: [...merged].map(([name, value]) => ({ name, value })),
            },
          ],
        });
      },
      endOffsets: async (topic): Promise<PartitionOffsets[]> =>
        (await admin.fetchTopicOffsets(topic)).map((o) => ({
          partition: o.partition,
          low: o.low,
          high: o.high,
        })),
      deleteRecordsBefore: async (offsets) => {
        const topics = byTopic(offsets);
        // deleteTopicRecords finds leaders in the admin's metadata, which a new admin lacks.
        await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
        for (const { topic, partitions } of topics)
          await admin.deleteTopicRecords({ topic, partitions });
      },
      deleteGroups: async (groupIds) => {
        await admin.deleteGroups([...groupIds]);
      },
      // kafkajs's OffsetFetch cannot ask for stable offsets (stable-committed-offsets.ts).
      committedOffsets: (groupId, topics, partition) => {
        stable ??= stableOffsetsAdmin(this.config, 'admin-offsets');
        return stableCommittedOffsets(stable, groupId, topics, partition);
      },
      close: async () => {
        await Promise.allSettled([admin.disconnect(), stable?.close()]);
      },
    };
  }

  async groupConsumer(options: GroupConsumerOptions): Promise<StreamsGroupConsumer> {
    const consumer = new KafkajsGroupConsumer(this.kafka, options, this.log);
    await consumer.start();
    return consumer;
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Murmur2Partitioner,
    });
    await producer.connect();
    // kafkajs's connect() asks for an idempotent producer id, without the transactional id: it
    // fences nothing. Its transactional InitProducerId runs at the first transaction() only,
    // so a task with nothing to write would leave a paused zombie of the partition's earlier
    // owner able to commit (seen by the chaos scenario streams-sigstop: held readings released
    // twice). Begin and end an empty transaction now (no EndTxn is sent for it): older producers
    // with this id are fenced, their open transaction aborted, before the task restores.
    const fencing = await producer.transaction();
    await fencing.abort();
    return {
      begin: async (): Promise<StreamsTransaction> => {
        const transaction = await producer.transaction();
        return {
          send: (records) => this.send(records, (batch) => transaction.sendBatch(batch)),
          sendOffsets: async (consumer, offsets) => {
            if (!(consumer instanceof KafkajsGroupConsumer))
              throw new TypeError('sendOffsets needs a kafkajs group consumer');
            await transaction.sendOffsets({
              consumerGroupId: consumer.groupId,
              topics: byTopic(offsets),
            });
          },
          commit: () => transaction.commit(),
          abort: async () => {
            if (transaction.isActive()) await transaction.abort();
          },
        };
      },
      close: () => producer.disconnect(),
    };
  }

  async idempotentProducer(): Promise<IdempotentProducer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Murmur2Partitioner,
    });
    await producer.connect();
    return {
      send: (records) => this.send(records, (batch) => producer.sendBatch(batch)),
      close: () => producer.disconnect(),
    };
  }

  /**
   * Sends in order, in requests below maxRequestBytes (see StreamsClientOptions); sendBatch puts
   * every topic of a chunk in one request per broker (see IdempotentProducer.send).
   */
  private async send(
    records: readonly ProducedRecord[],
    sendBatch: (batch: { topicMessages: TopicMessages[]; acks: -1 }) => Promise<unknown>,
  ): Promise<void> {
    for (const chunk of chunkRecords(records, this.maxRequestBytes)) {
      const byTopic = new Map<string, Message[]>();
      for (const r of chunk) {
        let messages = byTopic.get(r.topic);
        if (!messages) byTopic.set(r.topic, (messages = []));
        messages.push({
          key: r.key,
          value: r.value,
          partition: r.partition,
          timestamp: String(r.timestamp),
          headers: r.headers,
        });
      }
      await sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    }
  }

  async readRanges(options: ReadRangesOptions): Promise<void> {
    if (options.ranges.length === 0) return;
    const byKey = new Map(options.ranges.map((r) => [`${r.topic}:${r.partition}`, r]));
    const reader = await this.throwawayReader({
      topics: [...new Set(options.ranges.map((r) => r.topic))],
      ends: new Map(options.ranges.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.to)])),
      onlyEnds: true,
      starts: options.ranges.flatMap((r) =>
        r.from === undefined ? [] : [{ topic: r.topic, partition: r.partition, offset: r.from }],
      ),
      groupPrefix: `restore-${options.ranges.map((r) => r.partition).join('-')}`,
      onRecords: (topic, partition, records) => {
        const range = byKey.get(`${topic}:${partition}`);
        return range ? options.onBatch(range, records) : Promise.resolve();
      },
    });
    try {
      await reader.caughtUp;
    } finally {
      await reader.stop();
    }
  }

  async follow(options: FollowOptions): Promise<TopicFollower> {
    const admin = await this.admin();
    let ends: PartitionOffsets[];
    try {
      ends = await admin.endOffsets(options.topic);
    } finally {
      await admin.close();
    }
    return this.throwawayReader({
      topics: [options.topic],
      ends: new Map(ends.map((e) => [`${options.topic}:${e.partition}`, BigInt(e.high)])),
      groupPrefix: 'follow',
      onRecords: (_topic, partition, records) => options.onRecords(partition, records),
    });
  }

  /**
   * Reads `topics` from the beginning through a fresh group; `caughtUp` resolves once every
   * `topic:partition` in `ends` has reached its end. The group is deleted on stop.
   */
  private async throwawayReader(options: {
    topics: string[];
    ends: ReadonlyMap<string, bigint>;
    /** Partitions read from an offset instead of their beginning. */
    starts?: readonly { topic: string; partition: number; offset: string }[];
    /** Reads only the partitions in `ends` (a restore), not the whole topics (a follower). */
    onlyEnds?: boolean;
    groupPrefix: string;
    onRecords: (topic: string, partition: number, records: ConsumedRecord[]) => Promise<void>;
  }): Promise<TopicFollower> {
    const { topics, ends } = options;
    const groupId = `${topics[0] ?? 'none'}-${options.groupPrefix}-${randomBytes(4).toString('hex')}`;
    const consumer = this.kafka.consumer({
      groupId,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    const done = new Set<string>();
    for (const [key, end] of ends) if (end <= 0n) done.add(key);
    let lastProgress = Date.now();
    const reached = (topic: string, partition: number, lastOffset: string): void => {
      const key = `${topic}:${partition}`;
      const end = ends.get(key);
      if (end !== undefined && BigInt(lastOffset) >= end - 1n) done.add(key);
    };
    // A batch of only transaction markers or aborted records never reaches eachBatch, but kafkajs
    // reports it here; aborted transactions of crashed instances end many changelogs that way.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      lastProgress = Date.now();
      reached(payload.topic, payload.partition, payload.lastOffset);
    });
    // kafkajs retries a failing batch or fetch on its own (and logs the crash): a crash it will
    // not retry fails the read at once instead of leaving it to the timeout.
    let failReader: (error: Error) => void = () => undefined;
    const crashed = new Promise<never>((_, reject) => (failReader = reject));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      // kafkajs's own crash line leaves out the cause, which says what actually failed.
      this.log.warn(
        {
          groupId,
          err: payload.error.message,
          cause: errorMessage((payload.error as { cause?: unknown }).cause ?? ''),
        },
        'throwaway reader failed; kafkajs will not retry it',
      );
      failReader(payload.error);
    });
    // Seeks and pauses are placed when the group is joined, before the first fetch: ranges start
    // at their offsets, and the topic's other partitions (other tasks' changelogs) are not read.
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (joined) return;
      joined = true;
      for (const start of options.starts ?? []) consumer.seek(start);
      if (!options.onlyEnds) return;
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        const others = partitions.filter((p) => !ends.has(`${topic}:${p}`));
        if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async (payload) => {
        const { batch } = payload;
        lastProgress = Date.now();
        await options.onRecords(batch.topic, batch.partition, batch.messages.map(consumedRecord));
        const last = batch.messages.at(-1);
        if (last) payload.resolveOffset(last.offset);
        reached(batch.topic, batch.partition, batch.lastOffset());
      },
    });
    const admin = this.kafka.admin();
    await admin.connect();
    let stopped = false;
    // kafkajs does not hand over a batch holding only a transaction marker, so a partition is
    // also complete when the group's committed position has reached its end.
    const check = async (): Promise<boolean> => {
      if (stopped || done.size >= ends.size) return true;
      for (const committed of await admin.fetchOffsets({ groupId, topics })) {
        for (const { partition, offset } of committed.partitions) {
          const key = `${committed.topic}:${partition}`;
          const end = ends.get(key);
          if (end !== undefined && BigInt(offset) >= end) done.add(key);
        }
      }
      return done.size >= ends.size;
    };
    // No fixed limit on how long a read may take (a restore of millions of records takes what it
    // takes): it fails only once nothing has arrived for READER_STALL_MS.
    const caughtUp = (async () => {
      for (;;) {
        try {
          return await waitFor(check, {
            timeoutMs: READER_STALL_MS,
            intervalMs: 100,
            maxIntervalMs: 500,
            description: `${topics.join(', ')} read to its end (${options.groupPrefix}; nothing read for ${READER_STALL_MS / 1000} s)`,
          });
        } catch (err) {
          if (!(err instanceof TimeoutError) || Date.now() - lastProgress >= READER_STALL_MS)
            throw err;
        }
      }
    })();
    const finished = Promise.race([caughtUp, crashed]);
    finished.catch(() => undefined);
    return {
      caughtUp: finished.then(() => undefined),
      stop: async () => {
        stopped = true;
        await disconnectForGood(consumer);
        await admin.deleteGroups([groupId]).catch(() => undefined);
        await admin.disconnect();
      },
    };
  }
}

/**
 * A batch failed for a reason worth another try (fencing, an outage, an aborted transaction):
 * retriable and without a `cause`, since kafkajs decides on restarting by the deepest cause.
 */
class RestartFromCommitted extends ContinuumError {
  override readonly code = 'BATCH_FAILED';

  constructor(topic: string, partition: number, error: unknown) {
    super(`batch of ${topic}-${partition} failed: ${errorMessage(error)}`, {
      retriable: true,
      context: { topic, partition },
    });
  }
}

/** A member of the application's group: kafkajs's eachBatch, per-partition batches. */
class KafkajsGroupConsumer implements StreamsGroupConsumer {
  readonly groupId: string;
  private readonly consumer: Consumer;
  private readonly options: GroupConsumerOptions;
  private readonly log: Logger;
  private stopped = false;
  /** The fatal error eachBatch threw, for onFatal. */
  private fatal: Error | undefined;
  /** The member id of the last join; another one at the next join means membership was lost. */
  private memberId: string | undefined;

  constructor(kafka: Kafka, options: GroupConsumerOptions, log: Logger) {
    this.groupId = options.groupId;
    this.options = options;
    this.log = log;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 5)),
      partitionAssigners: [coPartitionedAssigner],
      // A failed batch restarts the consumer from the committed offsets (kafkajs restarts only
      // when the error's deepest cause is retriable, hence RestartFromCommitted); retries in
      // place would fetch on from the resolved offsets, past records of an aborted transaction.
      // A processor's 'fail' (not retriable) stops us instead of looping.
      retry: {
        retries: 0,
        restartOnFailure: (error) => Promise.resolve(!options.isFatal(error)),
      },
    });
  }

  async start(): Promise<void> {
    const { consumer, options } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // A new member id means the old one was dropped by the coordinator: its tasks are lost.
      if (this.memberId !== undefined && payload.memberId !== this.memberId) options.onLost?.();
      this.memberId = payload.memberId;
      options.onAssigned(
        Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
          partitions.map((partition) => ({ topic, partition })),
        ),
      );
    });
    // Emitted after each successful fetch (a failed one throws before it).
    consumer.on(consumer.events.FETCH, () => options.onFetched?.());
    // After every batch, those of only transaction markers or aborted records too (which never
    // reach eachBatch): the partition's high watermark, and for those the position past them.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      options.onRead?.({
        topic: payload.topic,
        partition: payload.partition,
        highWatermark: payload.highWatermark,
        ...(payload.batchSize === 0
          ? { nextOffset: (BigInt(payload.lastOffset) + 1n).toString() }
          : {}),
      });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) {
        this.log.warn(
          { err: payload.error.message },
          'consumer crashed; restarting from committed offsets',
        );
        return;
      }
      // kafkajs wraps what eachBatch threw in a KafkaJSNonRetriableError whose cause skips it
      // (`cause: e.cause || e`); hand over our own error.
      options.onFatal(this.fatal ?? payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (
          batch.messages.length === 0 ||
          this.stopped ||
          !payload.isRunning() ||
          payload.isStale()
        )
          return;
        try {
          await options.onBatch({
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map(consumedRecord),
            nextOffset: (BigInt(batch.lastOffset()) + 1n).toString(),
            isStale: () => payload.isStale(),
          });
        } catch (err) {
          if (options.isFatal(err) && err instanceof Error) {
            this.fatal = err;
            throw err;
          }
          throw new RestartFromCommitted(batch.topic, batch.partition, err);
        }
        payload.resolveOffset(batch.lastOffset());
        await payload.heartbeat();
      },
    });
  }

  /**
   * kafkajs's commitOffsets returns without committing while its runner restarts (runner.js:
   * `if (!this.running) return`). A commit the runtime then took as done would let its stores
   * run ahead of the group's offsets, so the commit must be seen: kafkajs reports each one it
   * made (COMMIT_OFFSETS, before the call returns), and a skipped one fails here.
   */
  async commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const wanted = new Set(offsets.map((o) => `${o.topic}:${o.partition}:${o.offset}`));
    const seen = new Set<string>();
    const stopListening = this.consumer.on(this.consumer.events.COMMIT_OFFSETS, ({ payload }) => {
      for (const { topic, partitions } of payload.topics)
        for (const { partition, offset } of partitions) seen.add(`${topic}:${partition}:${offset}`);
    });
    try {
      await this.consumer.commitOffsets(offsets.map((o) => ({ ...o })));
    } finally {
      stopListening();
    }
    const skipped = [...wanted].filter((k) => !seen.has(k));
    if (skipped.length > 0)
      throw new ContinuumError(
        `offsets not committed: the kafkajs consumer of ${this.groupId} is restarting`,
        { retriable: true, context: { groupId: this.groupId, skipped } },
      );
  }

  rewind(offsets: readonly TopicPartitionOffset[]): void {
    // kafkajs drops what it fetched for a partition with a pending seek, and marks a batch being
    // handed over as stale (isStale), so nothing read before the rewind is processed after it.
    for (const { topic, partition, offset } of offsets)
      this.consumer.seek({ topic, partition, offset });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await disconnectForGood(this.consumer).catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err) }, 'consumer disconnect failed');
    });
  }
}

/**
 * A task is a partition number across all input topics (they are co-partitioned), so a member
 * must get partition p of every topic or of none; kafkajs's round robin deals topic-partitions
 * out one by one and would split a task between members.
 */
const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'ContinuumCoPartitioned',
  version: 1,
  assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const owner = assignment.get(ids[partitionId % ids.length] ?? '');
        if (owner) (owner[topic] ??= []).push(partitionId);
      }
    }
    return Promise.resolve(
      [...assignment].map(([memberId, topicPartitions]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: topicPartitions,
          userData: Buffer.alloc(0),
        }),
      })),
    );
  },
  protocol({ topics }) {
    return {
      name: 'ContinuumCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});

function consumedRecord(message: KafkaMessage): ConsumedRecord {
  return {
    offset: message.offset,
    key: message.key,
    value: message.value,
    timestamp: Number(message.timestamp),
    headers: message.headers,
  };
}

function byTopic(
  offsets: readonly TopicPartitionOffset[],
): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  const topics = new Map<string, { partition: number; offset: string }[]>();
  for (const { topic, partition, offset } of offsets) {
    const partitions = topics.get(topic) ?? [];
    partitions.push({ partition, offset });
    topics.set(topic, partitions);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}
