// One task = one input partition of a topology: its processor instances, its state stores, its
// stream time and punctuations. The task turns an input record (bytes) into outputs (bytes):
// sink records, dead letters and — at commit — changelog entries. It does no I/O itself, so
// the broker-free test driver and the Kafka runtime drive the very same code.
import type { RecordHeaders } from './kafka-port.ts';
import { deadLetter, deadLetterReason } from '../../core/dead-letter.ts';
import { ContinuumError, DecodeError, errorMessage } from '../../core/errors.ts';
import { dlqTopic } from '../../core/topics.ts';
import { GlobalStores } from './global-stores.ts';
import {
  RecordRejectedError,
  type Cancellable,
  type Processor,
  type ProcessorContext,
  type PunctuationType,
} from './processor.ts';
import type { RawRecord, RecordMetadata, StreamRecord } from './record.ts';
import {
  TransactionalKeyValueStore,
  type KeyValueStore,
  type ReadOnlyKeyValueStore,
} from './state-store.ts';
import {
  createStore,
  pendingChangelog,
  type StoreFactory,
  type TaskStateStore,
} from './store-changelog.ts';
import {
  TopologyError,
  type ProcessorNode,
  type Serdes,
  type SourceNode,
  type Topology,
} from './topology.ts';
import { isPromiseLike } from './serde.ts';
import { InMemoryVersionedKeyValueStore, type VersionedKeyValueStore } from './versioned-store.ts';

/** A record the task wants written; `partition` is set for changelogs (the task's own). */
export interface TaskOutput {
  topic: string;
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: RecordHeaders;
}

/** A processor asked the task to stop (policy 'fail'); the runtime aborts the transaction. */
export class TaskFailedError extends ContinuumError {
  override readonly code = 'TASK_FAILED';
}

interface PendingSinkRecord {
  topic: string;
  serdes: Serdes<unknown, unknown>;
  record: StreamRecord<unknown, unknown>;
}

interface Schedule {
  type: PunctuationType;
  intervalMs: number;
  next: number;
  punctuator: (timestamp: number) => void;
  processor: string;
  cancelled: boolean;
}

export interface StreamTaskCounters {
  processed: number;
  forwarded: Record<string, number>;
  deadLettered: number;
  /** Dead letters by reason (deadLetterReason), for the metrics. */
  deadLetteredByReason: Record<string, number>;
  skipped: number;
}

export const DEFAULT_MAX_FUTURE_MS = 5 * 60_000;

export interface StreamTaskOptions {
  /**
   * Wall clock of the processors (currentSystemTimeMs, wall-clock punctuations); the driver
   * passes its own, the runtime an InputWallClock (it stands still while input cannot be read).
   */
  clock?: () => number;
  /** Real time, for the `future` check of event times (default: `clock`). */
  systemClock?: () => number;
  globalStores?: GlobalStores;
  /** Makes the task's stores (default: all in memory). */
  storeFactory?: StoreFactory;
  /** How far ahead of the clock an event time may be before it is dead-lettered as `future`. */
  maxFutureMs?: number;
}

export class StreamTask {
  readonly topology: Topology;
  readonly partition: number;
  /** Shared by every task of the application instance; the runtime keeps them filled. */
  readonly globalStores: GlobalStores;
  private readonly processors = new Map<string, Processor<unknown, unknown, unknown, unknown>>();
  private readonly stores = new Map<string, TaskStateStore>();
  private readonly schedules: Schedule[] = [];
  private outputs: PendingSinkRecord[] = [];
  private letters: TaskOutput[] = [];
  private currentMetadata: RecordMetadata | undefined;
  private currentRaw: RawRecord | undefined;
  private time = Number.NEGATIVE_INFINITY;
  /** Stream time and punctuation schedule as of the last commit, restored by abort(). */
  private committedTime = Number.NEGATIVE_INFINITY;
  private committedNext = new Map<Schedule, number>();
  private readonly clock: () => number;
  private readonly systemClock: () => number;
  /** Event times further than this ahead of the clock are dead-lettered (reason `future`). */
  private readonly maxFutureMs: number;
  readonly counters: StreamTaskCounters = {
    processed: 0,
    forwarded: {},
    deadLettered: 0,
    deadLetteredByReason: {},
    skipped: 0,
  };

  constructor(topology: Topology, partition: number, options: StreamTaskOptions = {}) {
    this.topology = topology;
    this.partition = partition;
    this.clock = options.clock ?? Date.now;
    this.systemClock = options.systemClock ?? this.clock;
    this.maxFutureMs = options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
    this.globalStores = options.globalStores ?? new GlobalStores(topology);
    const storeOf = options.storeFactory ?? createStore;
    for (const spec of topology.stores.values()) this.stores.set(spec.name, storeOf(spec));
    for (const node of topology.nodes.values()) {
      if (node.kind === 'processor') this.processors.set(node.name, node.supplier());
    }
    for (const node of topology.nodes.values()) {
      if (node.kind === 'processor') this.processors.get(node.name)?.init?.(this.contextFor(node));
    }
  }

  /** Highest event time seen by this task. */
  get streamTime(): number {
    return this.time;
  }

  /** A store of the task, either kind (for restores). */
  stateStore(name: string): TaskStateStore {
    const store = this.stores.get(name);
    if (!store) throw new TopologyError(`no store named "${name}"`);
    return store;
  }

  store<K, V>(name: string): TransactionalKeyValueStore<K, V> {
    const store = this.stateStore(name);
    if (!(store instanceof TransactionalKeyValueStore))
      throw new TopologyError(`store "${name}" is versioned: read it with versionedStore()`);
    return store as TransactionalKeyValueStore<K, V>;
  }

  versionedStore<K, V>(name: string): InMemoryVersionedKeyValueStore<K, V> {
    const store = this.stateStore(name);
    if (!(store instanceof InMemoryVersionedKeyValueStore))
      throw new TopologyError(`store "${name}" is not versioned`);
    return store as InMemoryVersionedKeyValueStore<K, V>;
  }

  private contextFor(node: ProcessorNode): ProcessorContext<unknown, unknown> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context is a view of this task
    const task = this;
    return {
      forward: (record, childName) => task.forward(node.children, record, childName),
      getStateStore: <K, V>(name: string): KeyValueStore<K, V> => {
        if (!node.stores.includes(name))
          throw new TopologyError(`processor "${node.name}" is not connected to store "${name}"`);
        return task.store<K, V>(name);
      },
      getVersionedStore: <K, V>(name: string): VersionedKeyValueStore<K, V> => {
        if (!node.stores.includes(name))
          throw new TopologyError(`processor "${node.name}" is not connected to store "${name}"`);
        return task.versionedStore<K, V>(name);
      },
      getGlobalStore: <K, V>(name: string): ReadOnlyKeyValueStore<K, V> => {
        if (!node.stores.includes(name) || !task.globalStores.has(name))
          throw new TopologyError(
            `processor "${node.name}" is not connected to global store "${name}"`,
          );
        return task.globalStores.store<K, V>(name);
      },
      schedule: (intervalMs, type, punctuator): Cancellable => {
        const schedule: Schedule = {
          type,
          intervalMs,
          next: type === 'wall-clock' ? task.clock() + intervalMs : Number.NEGATIVE_INFINITY,
          punctuator,
          processor: node.name,
          cancelled: false,
        };
        task.schedules.push(schedule);
        return { cancel: () => void (schedule.cancelled = true) };
      },
      get recordMetadata() {
        return task.currentMetadata;
      },
      get streamTime() {
        return task.time;
      },
      currentSystemTimeMs: () => task.clock(),
      partition: task.partition,
      applicationId: task.topology.applicationId,
    };
  }

  /**
   * Deserializes and processes one input record: at once when the source's serdes answer
   * synchronously (all of the runtime's do), else once they have. Throws TaskFailedError on
   * policy 'fail'.
   */
  process(metadata: RecordMetadata, raw: RawRecord): void | Promise<void> {
    const source = this.topology.sourceFor(metadata.topic);
    if (!source) throw new TopologyError(`no source reads topic "${metadata.topic}"`);
    let key: unknown;
    let value: unknown;
    try {
      key = raw.key === null ? null : source.serdes.key.deserialize(raw.key);
      value = source.serdes.value.deserialize(raw.value);
    } catch (err) {
      this.undecodable(metadata, raw, source.name, err);
      return;
    }
    if (isPromiseLike(key) || isPromiseLike(value))
      return Promise.all([key, value]).then(
        ([k, v]) =>
          this.withRecord(metadata, raw, () => this.processDecoded(metadata, raw, source, k, v)),
        (err: unknown) => this.undecodable(metadata, raw, source.name, err),
      );
    this.withRecord(metadata, raw, () => this.processDecoded(metadata, raw, source, key, value));
  }

  /** A record whose key or value would not deserialize: dead-lettered with its bytes. */
  private undecodable(
    metadata: RecordMetadata,
    raw: RawRecord,
    source: string,
    err: unknown,
  ): void {
    const error =
      err instanceof DecodeError ? err : new DecodeError(errorMessage(err), { cause: err });
    this.withRecord(metadata, raw, () => this.deadLetter(error, 'deserialize', source));
  }

  /** Runs `work` with `metadata` and `raw` as the record in hand (for dead letters and context). */
  private withRecord(metadata: RecordMetadata, raw: RawRecord, work: () => void): void {
    this.currentMetadata = metadata;
    this.currentRaw = raw;
    try {
      work();
    } finally {
      this.currentMetadata = undefined;
      this.currentRaw = undefined;
    }
  }

  /** The rest of process(), on a decoded record (inside withRecord). */
  private processDecoded(
    metadata: RecordMetadata,
    raw: RawRecord,
    source: SourceNode,
    key: unknown,
    value: unknown,
  ): void {
    let timestamp = raw.timestamp;
    if (source.timestampExtractor) {
      try {
        timestamp = source.timestampExtractor({ key, value, timestamp: raw.timestamp });
      } catch (err) {
        this.deadLetter(err, 'extract-timestamp', source.name);
        return;
      }
    }
    if (!Number.isFinite(timestamp) || timestamp < 0) {
      this.deadLetter(
        new RecordRejectedError(
          'invalid-timestamp',
          `event time ${timestamp} of ${metadata.topic}-${metadata.partition}@${metadata.offset} is not a time`,
        ),
        'extract-timestamp',
        source.name,
      );
      return;
    }
    const now = this.systemClock();
    if (timestamp > now + this.maxFutureMs) {
      // One bad clock must not move stream time (and with it watermarks, dedupe windows and
      // reordering) hours ahead for everything else on the partition.
      this.deadLetter(
        new RecordRejectedError(
          'future',
          `event time ${new Date(timestamp).toISOString()} of ${metadata.topic}-${metadata.partition}@${metadata.offset} is ${timestamp - now} ms ahead of the clock (at most ${this.maxFutureMs} ms allowed)`,
          { eventTime: timestamp, wallClock: now, maxFutureMs: this.maxFutureMs },
        ),
        'extract-timestamp',
        source.name,
      );
      return;
    }
    this.counters.processed += 1;
    this.time = Math.max(this.time, timestamp);
    this.forward(source.children, { key, value, timestamp, headers: raw.headers });
    this.punctuate('stream-time', this.time);
  }

  private forward(
    children: readonly string[],
    record: StreamRecord<unknown, unknown>,
    only?: string,
  ): void {
    for (const name of only ? children.filter((c) => c === only) : children) {
      const node = this.topology.nodes.get(name);
      if (!node) continue;
      this.counters.forwarded[name] = (this.counters.forwarded[name] ?? 0) + 1;
      if (node.kind === 'sink') {
        this.outputs.push({ topic: node.topic, serdes: node.serdes, record });
        continue;
      }
      if (node.kind !== 'processor') continue;
      try {
        this.processors.get(name)?.process(record);
      } catch (err) {
        if (err instanceof TaskFailedError) throw err;
        const metadata = this.currentMetadata ?? {
          topic: '(punctuation)',
          partition: this.partition,
          offset: '-1',
        };
        const policy = node.onError(err, record, metadata);
        if (policy === 'fail') {
          throw new TaskFailedError(
            `processor "${name}" failed on ${metadata.topic}-${metadata.partition}@${metadata.offset}: ${errorMessage(err)}`,
            {
              cause: err,
              context: { processor: name, ...metadata },
            },
          );
        }
        if (policy === 'dead-letter') this.deadLetter(err, 'process', name);
        else this.counters.skipped += 1;
      }
    }
  }

  private deadLetter(error: unknown, stage: string, processor: string): void {
    const metadata = this.currentMetadata;
    const raw = this.currentRaw;
    if (!metadata || !raw)
      throw new TaskFailedError(
        `"${processor}" rejected a record outside of processing: ${errorMessage(error)}`,
        { cause: error },
      );
    const failedAt = Date.now();
    const letter = deadLetter(
      {
        ...metadata,
        timestamp: raw.timestamp,
        key: raw.key,
        value: raw.value,
        headers: raw.headers,
      },
      { error, stage, processor: `${this.topology.applicationId}.${processor}` },
      failedAt,
    );
    this.letters.push({ topic: dlqTopic(metadata.topic), ...letter, timestamp: failedAt });
    this.counters.deadLettered += 1;
    const why = deadLetterReason(letter);
    this.counters.deadLetteredByReason[why] = (this.counters.deadLetteredByReason[why] ?? 0) + 1;
  }

  private punctuate(type: PunctuationType, now: number): void {
    for (const schedule of this.schedules) {
      if (schedule.cancelled || schedule.type !== type) continue;
      if (schedule.next === Number.NEGATIVE_INFINITY) {
        // First stream time seen: the grid starts here.
        schedule.next = now + schedule.intervalMs;
        continue;
      }
      if (now < schedule.next) continue;
      schedule.punctuator(now);
      schedule.next = now + schedule.intervalMs - ((now - schedule.next) % schedule.intervalMs);
    }
  }

  /** Fires due wall-clock punctuations (the runtime calls this on a timer). */
  punctuateWallClock(now = this.clock()): void {
    this.punctuate('wall-clock', now);
  }

  /** Serializes and hands over everything forwarded to sinks, and the dead letters, in order. */
  async drainOutputs(): Promise<TaskOutput[]> {
    const pending = this.outputs;
    const letters = this.letters;
    this.outputs = [];
    this.letters = [];
    const serialized: TaskOutput[] = [];
    for (const { topic, serdes, record } of pending) {
      let key =
        record.key === null || record.key === undefined ? null : serdes.key.serialize(record.key);
      if (isPromiseLike(key)) key = await key;
      let value =
        record.value === null || record.value === undefined
          ? null
          : serdes.value.serialize(record.value);
      if (isPromiseLike(value)) value = await value;
      serialized.push({ topic, key, value, timestamp: record.timestamp, headers: record.headers });
    }
    for (const letter of letters) serialized.push(letter);
    return serialized;
  }

  /** Whether a store has writes waiting for a commit. */
  get hasPendingWrites(): boolean {
    for (const store of this.stores.values()) if (store.hasPending) return true;
    return false;
  }

  /** Whether anything waits for a commit: outputs, dead letters or store writes. */
  get hasPendingWork(): boolean {
    return this.outputs.length > 0 || this.letters.length > 0 || this.hasPendingWrites;
  }

  /**
   * The changelog records of the stores' pending writes, to go out in the commit's transaction
   * (or, at-least-once, before its offsets). The writes are folded in by commitStores() only
   * once Kafka has them, so the bytes are made here, once.
   */
  async prepareChangelog(): Promise<TaskOutput[]> {
    const changelog: TaskOutput[] = [];
    const timestamp = Math.max(0, this.time);
    for (const [name, store] of this.stores) {
      const spec = this.topology.stores.get(name);
      if (!spec || !store.hasPending) continue;
      for (const record of await pendingChangelog(this.topology, spec, store))
        changelog.push({ ...record, partition: this.partition, timestamp });
    }
    return changelog;
  }

  /** Kafka committed the transaction: fold the pending store writes in, keep time and schedules. */
  commitStores(): void {
    this.committedTime = this.time;
    this.committedNext = new Map(this.schedules.map((s) => [s, s.next]));
    for (const store of this.stores.values()) store.commit();
  }

  /** The transaction was aborted: forget uncommitted store writes and unsent outputs. */
  abort(): void {
    for (const store of this.stores.values()) store.abort();
    // The aborted records will be read again: time and punctuations go back to the commit.
    this.time = this.committedTime;
    for (const schedule of this.schedules)
      schedule.next = this.committedNext.get(schedule) ?? schedule.next;
    this.outputs = [];
    this.letters = [];
  }

  close(): void {
    for (const processor of this.processors.values()) processor.close?.();
  }
}
