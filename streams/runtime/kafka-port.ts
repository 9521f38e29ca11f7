// The few Kafka operations the streams runtime needs, in our own types, so the runtime and its
// processors never see which client runs underneath (adapters in clients/: kafkajs, platformatic).
import type { KafkaClientConfig } from '../../core/kafka-client.ts';
import type { Logger } from '../../core/logger.ts';

/** Record headers as the runtime passes them on (kafkajs's shape, which our records use). */
export interface RecordHeaders {
  [name: string]: Buffer | string | (Buffer | string)[] | undefined;
}

/** A consumed record. Offsets are decimal strings: Kafka's are 64-bit. */
export interface ConsumedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: RecordHeaders;
}

/** Records of one partition, in offset order, as one fetch delivered them. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The offset after the batch's last record: what to commit once it is processed. */
  nextOffset: string;
  /** True once a seek made the batch out of date: its partition is read again from elsewhere. */
  isStale?: () => boolean;
}

export interface ProducedRecord {
  topic: string;
  /** Set for changelogs (the task's own partition); otherwise the key's murmur2 partition. */
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: RecordHeaders;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: string;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** The log end offset (the next offset to be written). */
  high: string;
}

export interface NewTopic {
  topic: string;
  partitions: number;
  configs?: Record<string, string>;
}

/** Admin operations; the caller closes it. */
export interface StreamsAdmin {
  /** Partition count per topic; a topic that does not exist is missing from the map. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  listTopics(): Promise<string[]>;
  /** Creates the topics and returns once every partition has a leader. */
  createTopics(topics: readonly NewTopic[]): Promise<void>;
  /** The named configs of each topic, as the broker applies them (defaults included). */
  topicConfigs(
    topics: readonly string[],
    names: readonly string[],
  ): Promise<Map<string, Record<string, string>>>;
  /** Sets configs of an existing topic, leaving its other configs as they are. */
  setTopicConfigs(topic: string, configs: Readonly<Record<string, string>>): Promise<void>;
  endOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Deletes each partition's records below `offset` (DeleteRecords): consumed repartition records. */
  deleteRecordsBefore(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  /**
   * The group's committed offset of one partition of each topic (absent: none committed), as
   * stable as the client can ask for (KIP-447 `require_stable` where it is supported).
   */
  committedOffsets(
    groupId: string,
    topics: readonly string[],
    partition: number,
  ): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export interface GroupConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** How long the group waits for a silent member before moving its partitions. */
  sessionTimeoutMs: number;
  /** The member's partitions after each rebalance (all topics). */
  onAssigned: (partitions: TopicPartition[]) => void;
  /**
   * The member lost its membership (it rejoined under a new member id: its session expired,
   * say, while the process was paused): called before onAssigned. Every task it held may have
   * been run by another member meanwhile, so none may be kept (Kafka Streams' handleLostAll).
   */
  onLost?: () => void;
  /**
   * A fetch completed: the input is being read (records it returned are handed over next; none
   * for a partition means it is caught up). Drives the processors' InputWallClock.
   */
  onFetched?: () => void;
  /**
   * What a fetch said of a partition beyond the records handed over: the consumer has read it up
   * to `nextOffset` (when set: every record below it was handed over to onBatch and processed,
   * or was a transaction marker or an aborted record — a batch of only those never reaches
   * onBatch), and the partition ends at `highWatermark` (when set). Drives each task's
   * "have I read my inputs to their end" (TaskInputProgress).
   */
  onRead?: (read: {
    topic: string;
    partition: number;
    nextOffset?: string;
    highWatermark?: string;
  }) => void;
  /**
   * Processes one batch (read_committed records). Returning commits nothing by itself: the
   * handler commits (in its transaction, or with commitOffsets). Throwing makes the consumer
   * start again from the committed offsets, unless `isFatal(error)`: then it stops and calls
   * onFatal.
   */
  onBatch: (batch: PartitionBatch) => Promise<void>;
  isFatal: (error: unknown) => boolean;
  onFatal: (error: Error) => void;
}

/** A member of a consumer group, delivering per-partition batches from the committed offsets. */
export interface StreamsGroupConsumer {
  /** Commits offsets for the group outside any transaction (at-least-once). */
  commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /**
   * Reads these partitions again from these offsets (the last commit, after work on them failed
   * with no batch to carry the failure): batches fetched before are dropped. An adapter that
   * cannot seek restarts from the committed offsets instead (a new member: onLost, then
   * onAssigned).
   */
  rewind(offsets: readonly TopicPartitionOffset[]): void;
  stop(): Promise<void>;
}

export interface StreamsTransaction {
  /** Sends in order; see IdempotentProducer.send for how the records are cut into requests. */
  send(records: readonly ProducedRecord[]): Promise<void>;
  /** Adds the consumer's input positions to the transaction (TxnOffsetCommit). */
  sendOffsets(
    consumer: StreamsGroupConsumer,
    offsets: readonly TopicPartitionOffset[],
  ): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A producer with a transactional id; connecting fences older producers with the same id. */
export interface TransactionalProducer {
  begin(): Promise<StreamsTransaction>;
  close(): Promise<void>;
}

export interface IdempotentProducer {
  /**
   * Sends in order (per partition), as few produce requests as the byte limit allows: records
   * of all topics go out together, one request per broker, until a topic's records would pass
   * maxRequestBytes. A caller that must not leave half of a set of records behind when its
   * process dies (at-least-once changelog flushes) gets all or none of it from one broker, as
   * long as no topic's share passes maxRequestBytes.
   */
  send(records: readonly ProducedRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** A partition to read from the beginning of its log up to `to`. */
export interface PartitionRange {
  topic: string;
  partition: number;
  /** Where reading starts (default: the partition's beginning). */
  from?: string;
  /** Exclusive: reading stops once the position reaches it (transaction markers included). */
  to: string;
}

export interface ReadRangesOptions {
  ranges: readonly PartitionRange[];
  onBatch: (range: PartitionRange, records: ConsumedRecord[]) => Promise<void>;
}

export interface FollowOptions {
  topic: string;
  /** Every record of every partition, in order per partition, from the beginning. */
  onRecords: (partition: number, records: ConsumedRecord[]) => Promise<void>;
}

/** A whole topic being followed: `caughtUp` resolves once the ends seen at start are reached. */
export interface TopicFollower {
  readonly caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export interface StreamsKafkaClient {
  /** Which adapter this is, for logs and benchmarks. */
  readonly kind: StreamsClientKind;
  admin(): Promise<StreamsAdmin>;
  groupConsumer(options: GroupConsumerOptions): Promise<StreamsGroupConsumer>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  idempotentProducer(): Promise<IdempotentProducer>;
  /** Reads partition ranges (one topic each), read_committed, leaving no group offsets behind. */
  readRanges(options: ReadRangesOptions): Promise<void>;
  /** Reads a whole topic, read_committed, from the beginning and keeps following it. */
  follow(options: FollowOptions): Promise<TopicFollower>;
}

export type StreamsClientKind = 'kafkajs' | 'platformatic';

export interface StreamsClientOptions {
  /** Brokers and client id prefix (a Config fits). */
  config: KafkaClientConfig;
  log: Logger;
  /**
   * Upper bound of one topic's records in one produce request. kafkajs packs one send's records
   * for a partition into a single record batch, so a large flush must be chunked below the
   * broker's message size.
   */
  maxRequestBytes?: number;
}

export const DEFAULT_MAX_REQUEST_BYTES = 512 * 1024;

/** Bytes a record takes in a produce request: key, value, headers and per-record overhead. */
export function recordSize(record: ProducedRecord): number {
  let headers = 0;
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    headers +=
      name.length +
      (value === undefined
        ? 0
        : Array.isArray(value)
          ? value.reduce((n, v) => n + v.length, 0)
          : value.length) +
      8;
  }
  return (record.key?.length ?? 0) + (record.value?.length ?? 0) + headers + 64;
}

/**
 * Splits records, in order, into runs in which no topic gets more than `maxBytes` (a record
 * larger than that alone): the broker limits a partition's record batch, kafkajs packs a
 * request's records for one partition into one batch, and a topic's records may all go to one
 * partition. A run mixes topics, so each run is one produce request per broker.
 */
export function chunkRecords(
  records: readonly ProducedRecord[],
  maxBytes: number,
): ProducedRecord[][] {
  const chunks: ProducedRecord[][] = [];
  let current: ProducedRecord[] | undefined;
  let topicBytes = new Map<string, number>();
  for (const record of records) {
    const size = recordSize(record);
    const bytes = topicBytes.get(record.topic) ?? 0;
    if (!current || bytes + size > maxBytes) {
      current = [];
      chunks.push(current);
      topicBytes = new Map();
    }
    current.push(record);
    topicBytes.set(record.topic, (topicBytes.get(record.topic) ?? 0) + size);
  }
  return chunks;
}
