// Runs a topology on Kafka through the client port (kafka-port.ts; kafkajs or
// @platformatic/kafka underneath): one consumer group per application id, one task per input
// partition, stores restored from their changelogs before a task processes anything, global
// stores read in full before the group starts and followed afterwards.
// exactly-once: per task a transactional producer (transactional id `<app-id>-<partition>`,
// since kafkajs lacks KIP-447 group fencing) writes outputs, changelogs and input offsets in
// one transaction; a zombie holding the same partition is fenced by it. A transaction stays
// open across fetched batches until the commit interval has passed (Kafka Streams'
// commit.interval.ms; 0 = one per batch). Stores fold their writes in only once Kafka has
// committed them, so an aborted transaction leaves no trace in memory either.
// at-least-once: an idempotent producer writes outputs as they come; changelogs, then the
// input offsets, at each commit. Outputs before state, so a crash replays what the restored
// stores have not seen; all changelogs of a commit in one send (one request per broker when
// it fits), so a crash cannot restore one store ahead of another (say, dedupe ids without
// the readings a reorder store held for release).
import type { Registry } from 'prom-client';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { restoreTaskStores } from './changelog-restore.ts';
import { GlobalStores } from './global-stores.ts';
import { ensureTopologyTopics } from './internal-topics.ts';
import { changelogTopic, TopologyError, type StoreSpec, type Topology } from './topology.ts';
import {
  recordSize,
  type ConsumedRecord,
  type IdempotentProducer,
  type PartitionBatch,
  type StreamsGroupConsumer,
  type StreamsKafkaClient,
  type StreamsTransaction,
  type TopicFollower,
  type TopicPartitionOffset,
  type TransactionalProducer,
} from './kafka-port.ts';
import { RepartitionPurger } from './repartition-purger.ts';
import { StateDirectory } from './state-directory.ts';
import { createStore, type StoreFactory } from './store-changelog.ts';
import { StreamTask, TaskFailedError } from './stream-task.ts';
import { StreamsMetrics } from './streams-metrics.ts';

export type ProcessingGuarantee = 'exactly-once' | 'at-least-once';

export interface StreamsApplicationOptions {
  topology: Topology;
  /** The Kafka client (createStreamsClient(config, kind, log)); the application does not close it. */
  client: StreamsKafkaClient;
  log: Logger;
  guarantee: ProcessingGuarantee;
  metricsRegistry?: Registry;
  /**
   * How long the group waits for a silent member before moving its partitions: after a crash
   * this is how long its partitions stand still (Kafka's minimum is 6 s).
   */
  sessionTimeoutMs?: number;
  /** Called when the application stops on an error it cannot get past (a processor's 'fail'). */
  onFatal?: (error: Error) => void;
  /**
   * How long a task may keep its transaction (exactly-once) or its offsets (at-least-once) open
   * across fetched batches before committing (Kafka Streams' commit.interval.ms); 0 commits
   * every batch.
   */
  commitIntervalMs?: number;
  /**
   * How often the records of repartition topics that the group has committed past are deleted
   * (Kafka Streams' repartition.purge.interval.ms): repartition topics keep records whatever
   * their timestamps, so without this they only grow. 0 = never.
   */
  repartitionPurgeIntervalMs?: number;
  /** Event times further than this ahead of the wall clock are dead-lettered (`future`). */
  maxFutureMs?: number;
  /**
   * Bounds of one transaction (or at-least-once commit): once a task's open work holds this
   * many input records, or this many bytes of outputs, it is committed before more is
   * processed, however large the fetched batch (a replay can hand over millions).
   */
  maxTransactionRecords?: number;
  maxTransactionBytes?: number;
  /** How often wall-clock punctuations are due-checked on every task (ms). */
  punctuationIntervalMs?: number;
  /**
   * Where stores on disk live (`<stateDir>/<application id>`; CONTINUUM_STREAMS_STATE_DIR);
   * needed once a store is persistent.
   */
  stateDir?: string;
  /** Changelogged key-value stores are kept on disk unless their spec says otherwise. */
  persistentStores?: boolean;
}

export const DEFAULT_COMMIT_INTERVAL_MS = 100;
export const DEFAULT_REPARTITION_PURGE_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_TRANSACTION_RECORDS = 10_000;
export const DEFAULT_MAX_TRANSACTION_BYTES = 16 * 1024 * 1024;
export const DEFAULT_PUNCTUATION_INTERVAL_MS = 1_000;
/** Records processed between two checks of the transaction bounds. */
const SLICE_RECORDS = 500;

/** What a task has written since its last commit. */
interface OpenCommit {
  transaction: StreamsTransaction | undefined;
  /** Input positions to commit, per `topic:partition`. */
  offsets: Map<string, TopicPartitionOffset>;
  /** Event times of the records written to the application's external outputs, per topic (freshness). */
  outputTimes: Map<string, number[]>;
  /** Bytes of outputs sent in this transaction. */
  bytes: number;
  records: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
}

interface TaskHandle {
  task: StreamTask;
  producer: TransactionalProducer | undefined;
  forwardedSeen: Record<string, number>;
  deadLetteredSeen: Record<string, number>;
  /** Batches, timed commits and closing take turns on a task. */
  lock: Promise<unknown>;
  open: OpenCommit | undefined;
  /** A timed commit failed: the task's next batch fails, so the consumer rewinds to the commit. */
  failed: Error | undefined;
  /**
   * Next offset to process per `topic:partition`. A consumer may hand over records again that
   * the open transaction already holds (a rebalance rewinds to the committed offsets); they are
   * skipped. Forgotten when the open work is dropped, so the rewind then replays them.
   */
  positions: Map<string, bigint>;
}

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

export class StreamsApplication {
  readonly topology: Topology;
  readonly guarantee: ProcessingGuarantee;
  readonly client: StreamsKafkaClient;
  /** Filled from their topics before processing starts, shared by every task. */
  readonly globalStores: GlobalStores;
  private readonly log: Logger;
  /** Per-batch and per-commit debug lines: built only when they will be written (hot path). */
  private readonly debug: boolean;
  private readonly sessionTimeoutMs: number;
  private readonly commitIntervalMs: number;
  private consumer: StreamsGroupConsumer | undefined;
  private readonly followers: TopicFollower[] = [];
  private readonly tasks = new Map<number, Promise<TaskHandle>>();
  /**
   * Partitions the group gave this instance. A task of one may be missing (its creation failed,
   * or it was discarded after a failed transaction): it is created again with backoff, not only
   * on its next batch, which a bounded input that has ended never sends — and the task's
   * wall-clock work (the quiet flush of what waits) would never run.
   */
  private assigned: ReadonlySet<number> = new Set();
  private readonly recreation = new Map<number, { at: number; delayMs: number }>();
  private sharedProducer: IdempotentProducer | undefined;
  private readonly metrics: StreamsMetrics;
  private readonly onFatal: (error: Error) => void;
  private fatal: Error | undefined;
  private stopped = false;
  /** Deletes the repartition records the group has committed past. */
  private readonly purger: RepartitionPurger;
  private readonly maxFutureMs: number | undefined;
  private readonly maxTransactionRecords: number;
  private readonly maxTransactionBytes: number;
  private readonly punctuationIntervalMs: number;
  private punctuationTimer: NodeJS.Timeout | undefined;
  /** External topics the application writes (freshness is measured on these). */
  private readonly outputTopics: ReadonlySet<string>;
  /** Stores kept on disk, by name; the state directory is opened at start when there are any. */
  private readonly persistentStores: ReadonlySet<string>;
  private readonly stateDirPath: string | undefined;
  private stateDirectory: StateDirectory | undefined;

  constructor(options: StreamsApplicationOptions) {
    this.topology = options.topology;
    this.guarantee = options.guarantee;
    this.client = options.client;
    this.log = options.log.child({
      component: 'streams',
      applicationId: options.topology.applicationId,
      guarantee: options.guarantee,
      client: options.client.kind,
      commitIntervalMs: options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
    });
    this.debug = this.log.isLevelEnabled('debug');
    this.metrics = new StreamsMetrics(options.metricsRegistry);
    this.metrics.initialize(options.topology.applicationId);
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.commitIntervalMs = options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS;
    this.onFatal = options.onFatal ?? (() => undefined);
    this.purger = new RepartitionPurger({
      client: this.client,
      // The internal topics that are not changelogs are the repartitions.
      topics: new Set(
        this.topology
          .internalTopics()
          .filter((t) => !t.compacted)
          .map((t) => t.topic),
      ),
      intervalMs: options.repartitionPurgeIntervalMs ?? DEFAULT_REPARTITION_PURGE_INTERVAL_MS,
      application: this.topology.applicationId,
      purges: this.metrics.repartitionPurges,
      log: this.log,
    });
    this.globalStores = new GlobalStores(this.topology, {
      onSkip: (skip) => this.log.warn(skip, 'global store record skipped'),
    });
    this.maxFutureMs = options.maxFutureMs;
    this.maxTransactionRecords = options.maxTransactionRecords ?? DEFAULT_MAX_TRANSACTION_RECORDS;
    this.maxTransactionBytes = options.maxTransactionBytes ?? DEFAULT_MAX_TRANSACTION_BYTES;
    this.punctuationIntervalMs = options.punctuationIntervalMs ?? DEFAULT_PUNCTUATION_INTERVAL_MS;
    this.outputTopics = new Set(
      this.topology
        .sinks()
        .filter((s) => !s.internal)
        .map((s) => s.topic),
    );
    this.persistentStores = new Set(
      [...this.topology.stores.values()]
        .filter((spec) => isPersistent(spec, options.persistentStores ?? false))
        .map((spec) => spec.name),
    );
    this.stateDirPath = options.stateDir;
    if (this.persistentStores.size > 0 && this.stateDirPath === undefined)
      throw new TopologyError(
        `stores ${[...this.persistentStores].join(', ')} are persistent: the application needs a stateDir`,
      );
  }

  /** Input partitions this instance has tasks for. */
  get partitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  /** The error the application stopped on, if any. */
  get error(): Error | undefined {
    return this.fatal;
  }

  async start(): Promise<void> {
    if (this.persistentStores.size > 0 && this.stateDirPath !== undefined) {
      this.stateDirectory = StateDirectory.open(
        this.stateDirPath,
        this.topology.applicationId,
        this.log,
      );
      this.log.info(
        { stores: [...this.persistentStores], dir: this.stateDirectory.dir },
        'stores on disk',
      );
    }
    const admin = await this.client.admin();
    try {
      const { partitions, created, aligned } = await ensureTopologyTopics(admin, this.topology);
      if (created.length > 0) this.log.info({ created, partitions }, 'created internal topics');
      for (const a of aligned)
        this.log.warn(a, 'internal topic lacked the configs the runtime relies on; set them');
    } finally {
      await admin.close();
    }
    await this.startGlobalStores();
    if (this.guarantee === 'at-least-once')
      this.sharedProducer = await this.client.idempotentProducer();
    this.consumer = await this.client.groupConsumer({
      groupId: this.topology.applicationId,
      topics: this.topology.inputTopics(),
      sessionTimeoutMs: this.sessionTimeoutMs,
      onAssigned: (topicPartitions) => {
        if (this.stopped) return;
        const assigned = new Set(topicPartitions.map((tp) => tp.partition));
        this.assigned = assigned;
        this.recreation.clear();
        this.log.info({ partitions: [...assigned].sort((a, b) => a - b) }, 'partitions assigned');
        // A rebalance may rewind kept partitions to their committed offsets: commit what is open.
        this.commitAllOpen();
        void this.closeTasksExcept(assigned);
        // Create tasks now, not on their first batch: initializing a task's transactional producer
        // fences a dead instance and aborts its open transaction, which otherwise holds back
        // read_committed readers of the partitions it wrote (repartitions, outputs) until it times out.
        for (const partition of assigned) {
          this.taskFor(partition).catch((err: unknown) =>
            this.log.warn(
              { partition, err: errorMessage(err) },
              'task creation failed; retried on its next batch or with backoff',
            ),
          );
        }
      },
      onLost: () => {
        if (this.stopped) return;
        this.log.warn(
          { partitions: this.partitions },
          'group membership lost; closing every task without committing',
        );
        // Nothing is ours until the group assigns it again.
        this.assigned = new Set();
        this.closeAllDirty();
      },
      onBatch: (batch) => this.processBatch(batch),
      // A processor's 'fail' must stop us, not loop: everything else (outages, fencing) restarts.
      isFatal: (error) => error instanceof TaskFailedError,
      onFatal: (error) => {
        this.fatal = error;
        this.log.error({ err: error.message }, 'streams application stopped');
        this.onFatal(error);
      },
    });
    this.purger.start();
    if (this.punctuationIntervalMs > 0) {
      this.punctuationTimer = setInterval(() => this.punctuateAll(), this.punctuationIntervalMs);
      this.punctuationTimer.unref();
    }
    this.log.info({ inputs: this.topology.inputTopics() }, 'streams application running');
  }

  /** Reads every global store's topic to its current end, then keeps following it. */
  private async startGlobalStores(): Promise<void> {
    const topics = this.globalStores.topics();
    if (topics.length === 0) return;
    const started = performance.now();
    for (const topic of topics) {
      const follower = await this.client.follow({
        topic,
        onRecords: async (_partition, records) => {
          for (const record of records) await this.globalStores.apply(topic, record);
        },
      });
      this.followers.push(follower);
    }
    await Promise.all(this.followers.map((f) => f.caughtUp));
    this.log.info(
      {
        topics,
        applied: Object.fromEntries(this.globalStores.applied),
        seconds: (performance.now() - started) / 1000,
      },
      'global stores loaded',
    );
  }

  private taskFor(partition: number): Promise<TaskHandle> {
    let handle = this.tasks.get(partition);
    if (!handle) {
      handle = this.createTask(partition);
      this.tasks.set(partition, handle);
      handle.catch(() => this.tasks.delete(partition));
    }
    return handle;
  }

  private async createTask(partition: number): Promise<TaskHandle> {
    // Taken (and removed) now: until this task closes cleanly, a crash must find no checkpoint.
    const checkpoint = this.stateDirectory?.takeCheckpoint(partition) ?? new Map<string, string>();
    const task = new StreamTask(this.topology, partition, {
      globalStores: this.globalStores,
      maxFutureMs: this.maxFutureMs,
      storeFactory: this.storeFactory(partition),
    });
    // The producer first: its init fences a zombie and aborts its open transaction, which would
    // otherwise hold the changelog's read_committed end back and stall the restore.
    const producer =
      this.guarantee === 'exactly-once'
        ? await this.client.transactionalProducer(`${this.topology.applicationId}-${partition}`)
        : undefined;
    let positions = new Map<string, bigint>();
    try {
      if (producer) positions = await this.committedPositions(partition);
      const stop = this.metrics.restoreSeconds.startTimer({
        application: this.topology.applicationId,
      });
      const restored = await restoreTaskStores(
        this.client,
        this.topology,
        partition,
        (name) => task.stateStore(name),
        this.log,
        checkpoint,
      );
      stop();
      const application = this.topology.applicationId;
      this.metrics.restoredRecords.inc(
        { application, start: 'beginning' },
        restored.records - restored.tailRecords,
      );
      this.metrics.restoredRecords.inc({ application, start: 'checkpoint' }, restored.tailRecords);
    } catch (err) {
      await producer?.close().catch(() => undefined);
      throw err;
    }
    this.log.info({ partition }, 'task ready');
    return {
      task,
      producer,
      forwardedSeen: {},
      deadLetteredSeen: {},
      lock: Promise.resolve(),
      open: undefined,
      failed: undefined,
      positions,
    };
  }

  private storeFactory(partition: number): StoreFactory {
    const directory = this.stateDirectory;
    return (spec) =>
      directory && this.persistentStores.has(spec.name)
        ? directory.store(partition, spec)
        : createStore(spec);
  }

  /**
   * Records where a cleanly closed task's stores on disk stand: its changelogs' ends, which hold
   * nothing the stores lack once its last commit went through. Only when the application stops
   * (no new task of the partition can be restoring meanwhile).
   */
  private async writeCheckpoint(handle: TaskHandle): Promise<void> {
    const directory = this.stateDirectory;
    if (!directory || this.persistentStores.size === 0) return;
    const { partition } = handle.task;
    const offsets = new Map<string, string>();
    const admin = await this.client.admin();
    try {
      for (const name of this.persistentStores) {
        const topic = changelogTopic(this.topology.applicationId, name);
        const end = (await admin.endOffsets(topic)).find((o) => o.partition === partition);
        if (end) offsets.set(name, end.high);
      }
    } finally {
      await admin.close();
    }
    await directory.writeCheckpoint(partition, offsets);
    this.log.info({ partition, offsets: Object.fromEntries(offsets) }, 'stores checkpointed');
  }

  /**
   * The partition's committed input offsets, read once the task's producer has fenced every
   * earlier owner: no transaction of theirs can commit offsets any more, so these are final.
   * The consumer may have fetched older ones, before an earlier owner's last commit landed (it
   * asked during the rebalance, while that owner was still committing what it had open): its
   * records below these were processed and committed already, and are skipped (KIP-447's
   * stable offsets, without a client that can ask for them on the consumer's own fetch).
   */
  private async committedPositions(partition: number): Promise<Map<string, bigint>> {
    const admin = await this.client.admin();
    try {
      const committed = await admin.committedOffsets(
        this.topology.applicationId,
        this.topology.inputTopics(),
        partition,
      );
      return new Map(
        [...committed].map(([topic, offset]) => [`${topic}:${partition}`, BigInt(offset)]),
      );
    } finally {
      await admin.close();
    }
  }

  private async closeTasksExcept(assigned: ReadonlySet<number>): Promise<void> {
    for (const [partition, handle] of [...this.tasks]) {
      if (assigned.has(partition)) continue;
      this.tasks.delete(partition);
      const resolved = await handle.catch(() => undefined);
      if (resolved) await this.closeTask(resolved);
      this.log.info({ partition }, 'task closed (partition moved to another instance)');
    }
  }

  /** Creates the tasks of assigned partitions that have none, each with its own backoff (1 s → 30 s). */
  private recreateMissingTasks(now: number): void {
    for (const partition of this.assigned) {
      if (this.tasks.has(partition)) {
        this.recreation.delete(partition);
        continue;
      }
      const last = this.recreation.get(partition);
      // The first attempt waits a period too: a batch may be about to create the task.
      if (!last) {
        this.recreation.set(partition, { at: now + 1_000, delayMs: 1_000 });
        continue;
      }
      if (now < last.at) continue;
      const delayMs = Math.min(last.delayMs * 2, 30_000);
      this.recreation.set(partition, { at: now + delayMs, delayMs });
      this.log.info({ partition }, 'creating the missing task of an assigned partition');
      this.taskFor(partition).catch((err: unknown) =>
        this.log.warn(
          { partition, err: errorMessage(err), retryInMs: delayMs },
          'task creation failed; retried with backoff',
        ),
      );
    }
  }

  /** Runs `work` on the task once whatever runs on it has finished. */
  private withLock<T>(handle: TaskHandle, work: () => Promise<T>): Promise<T> {
    const run = handle.lock.then(work, work);
    handle.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Drops every task without committing: their open transactions aborted (the next owner's
   * producer fenced them anyway), their stores and producers closed. Tasks assigned again are
   * created afresh, restored from their changelogs, from the committed offsets.
   */
  private closeAllDirty(): void {
    const lost = [...this.tasks.values()];
    this.tasks.clear();
    for (const pending of lost) {
      void pending
        .then((handle) =>
          this.withLock(handle, async () => {
            const open = handle.open;
            handle.open = undefined;
            handle.positions.clear();
            clearTimeout(open?.timer);
            if (open?.transaction?.abort) await open.transaction.abort().catch(() => undefined);
            handle.task.abort();
            handle.task.close();
            await handle.producer?.close().catch(() => undefined);
          }),
        )
        .catch(() => undefined);
    }
  }

  /**
   * Commits what the task has open, or closes it unfinished, then closes it; with `checkpoint`,
   * a committed close records where its stores on disk stand.
   */
  private async closeTask(handle: TaskHandle, checkpoint = false): Promise<void> {
    const committed = await this.withLock(handle, () => this.commitOpen(handle)).then(
      () => handle.failed === undefined,
      (err: unknown) => {
        this.log.warn(
          { partition: handle.task.partition, err: errorMessage(err) },
          'commit on close failed; the next owner processes those records again',
        );
        return false;
      },
    );
    if (checkpoint && committed)
      await this.writeCheckpoint(handle).catch((err: unknown) =>
        this.log.warn(
          { partition: handle.task.partition, err: errorMessage(err) },
          'checkpoint not written; the stores restore in full next time',
        ),
      );
    handle.task.close();
    await handle.producer?.close().catch(() => undefined);
  }

  /** Starts a commit of every task's open work (each after what runs on it). */
  private commitAllOpen(): void {
    for (const pending of this.tasks.values()) {
      void pending
        .then((handle) =>
          this.withLock(handle, () => this.commitOpen(handle)).catch((err: unknown) => {
            handle.failed = asError(err);
          }),
        )
        .catch(() => undefined);
    }
  }

  private async processBatch(batch: PartitionBatch): Promise<void> {
    if (batch.records.length === 0 || this.stopped) return;
    const handle = await this.taskFor(batch.partition);
    await this.withLock(handle, () => this.processLocked(handle, batch));
  }

  private async processLocked(handle: TaskHandle, batch: PartitionBatch): Promise<void> {
    if (handle.failed !== undefined) {
      const failed = handle.failed;
      handle.failed = undefined;
      throw failed;
    }
    const key = `${batch.topic}:${batch.partition}`;
    const position = handle.positions.get(key);
    const records =
      position === undefined
        ? batch.records
        : batch.records.filter((r) => BigInt(r.offset) >= position);
    if (this.debug)
      this.log.debug(
        {
          partition: batch.partition,
          topic: batch.topic,
          first: batch.records[0]?.offset,
          next: batch.nextOffset,
          count: batch.records.length,
          kept: records.length,
        },
        'batch',
      );
    if (records.length === 0) return;
    // In slices, so that one transaction never holds more than its bounds, whatever the fetch
    // handed over: a replay's backlog arrives in batches of any size.
    for (let from = 0; from < records.length; from += SLICE_RECORDS) {
      const slice = records.slice(from, from + SLICE_RECORDS);
      const last = from + SLICE_RECORDS >= records.length;
      const next = last ? batch.nextOffset : (BigInt(lastOf(slice).offset) + 1n).toString();
      await this.processSlice(handle, batch, slice, next);
      const open = handle.open;
      if (
        open &&
        (open.records >= this.maxTransactionRecords || open.bytes >= this.maxTransactionBytes)
      )
        await this.commitOpen(handle);
    }
    await this.scheduleCommit(handle);
  }

  /** Processes records of one partition into the task's open transaction (begun if needed). */
  private async processSlice(
    handle: TaskHandle,
    batch: PartitionBatch,
    records: readonly ConsumedRecord[],
    nextOffset: string,
  ): Promise<void> {
    const application = this.topology.applicationId;
    const { task } = handle;
    const stopProcessing = this.metrics.processingSeconds.startTimer({ application });
    const open = await this.openCommit(handle);
    try {
      for (const record of records) {
        await task.process(
          { topic: batch.topic, partition: batch.partition, offset: record.offset },
          {
            key: record.key,
            value: record.value,
            timestamp: record.timestamp,
            headers: record.headers,
          },
        );
      }
      stopProcessing();
      await this.sendOutputs(handle, open);
      open.records += records.length;
      const key = `${batch.topic}:${batch.partition}`;
      handle.positions.set(key, BigInt(nextOffset));
      open.offsets.set(key, { topic: batch.topic, partition: batch.partition, offset: nextOffset });
    } catch (err) {
      await this.abortOpen(handle, err);
      throw err;
    }
  }

  /** The task's open work, begun (with its transaction, exactly-once) when there is none. */
  private async openCommit(handle: TaskHandle): Promise<OpenCommit> {
    handle.open ??= {
      transaction: handle.producer ? await handle.producer.begin() : undefined,
      offsets: new Map(),
      outputTimes: new Map(),
      bytes: 0,
      records: 0,
      startedAt: Date.now(),
      timer: undefined,
    };
    return handle.open;
  }

  /** Sends what the task forwarded to sinks and dead-lettered: in the transaction, or as it comes. */
  private async sendOutputs(handle: TaskHandle, open: OpenCommit): Promise<void> {
    const outputs = await handle.task.drainOutputs();
    if (outputs.length === 0) return;
    if (open.transaction) await open.transaction.send(outputs);
    else await this.atLeastOnceProducer().send(outputs);
    for (const output of outputs) {
      open.bytes += recordSize(output);
      if (!this.outputTopics.has(output.topic)) continue;
      let times = open.outputTimes.get(output.topic);
      if (!times) {
        times = [];
        open.outputTimes.set(output.topic, times);
      }
      times.push(output.timestamp);
    }
  }

  /** Commits the task's open work now when the commit interval has passed, else on a timer. */
  private async scheduleCommit(handle: TaskHandle): Promise<void> {
    const open = handle.open;
    if (!open) return;
    const due = open.startedAt + this.commitIntervalMs - Date.now();
    if (due <= 0 || this.stopped) {
      await this.commitOpen(handle);
      return;
    }
    open.timer ??= setTimeout(() => {
      void this.withLock(handle, () =>
        handle.open === open ? this.commitOpen(handle) : Promise.resolve(),
      ).catch((err: unknown) => {
        handle.failed = asError(err);
      });
    }, due);
  }

  /** Fires due wall-clock punctuations on every task, each after what runs on it. */
  private punctuateAll(): void {
    if (this.stopped) return;
    this.recreateMissingTasks(Date.now());
    for (const pending of this.tasks.values()) {
      void pending
        .then((handle) =>
          this.withLock(handle, () => this.punctuateLocked(handle)).catch((err: unknown) => {
            handle.failed = asError(err);
          }),
        )
        .catch(() => undefined);
    }
  }

  /**
   * Runs the task's wall-clock punctuations; what they forward or write joins the open
   * transaction (begun only when they did something) and is committed like processed records.
   */
  private async punctuateLocked(handle: TaskHandle): Promise<void> {
    if (handle.failed !== undefined || this.stopped || this.tasks.size === 0) return;
    const { task } = handle;
    try {
      task.punctuateWallClock(Date.now());
    } catch (err) {
      await this.abortOpen(handle, err);
      throw err;
    }
    if (!task.hasPendingWork) return;
    const open = await this.openCommit(handle);
    try {
      await this.sendOutputs(handle, open);
    } catch (err) {
      await this.abortOpen(handle, err);
      throw err;
    }
    await this.scheduleCommit(handle);
  }

  /** Commits the task's open work: changelogs and input offsets (in its transaction). */
  private async commitOpen(handle: TaskHandle): Promise<void> {
    const open = handle.open;
    if (!open) return;
    clearTimeout(open.timer);
    const consumer = this.consumer;
    const application = this.topology.applicationId;
    const stopCommit = this.metrics.commitSeconds.startTimer({
      application,
      guarantee: this.guarantee,
    });
    try {
      if (!consumer) throw new Error('consumer not started');
      const changelog = await handle.task.prepareChangelog();
      const offsets = [...open.offsets.values()];
      if (open.transaction) {
        await open.transaction.send(changelog);
        if (offsets.length > 0) await open.transaction.sendOffsets(consumer, offsets);
        await open.transaction.commit();
      } else {
        await this.atLeastOnceProducer().send(changelog);
        await consumer.commitOffsets(offsets);
      }
      handle.open = undefined;
      this.purger.committed(offsets);
      if (this.debug)
        this.log.debug(
          {
            partition: handle.task.partition,
            offsets: offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`),
            changelog: changelog.length,
            records: open.records,
            bytes: open.bytes,
            openMs: Date.now() - open.startedAt,
          },
          'committed',
        );
      // Kafka has the writes now: fold them into the stores.
      handle.task.commitStores();
      stopCommit();
      this.metrics.recordsProcessed.inc({ application }, open.records);
      this.record(handle, open);
    } catch (err) {
      await this.abortOpen(handle, err);
      throw err;
    }
  }

  /** Drops the task's open work: the transaction aborted, the stores' pending writes gone. */
  private async abortOpen(handle: TaskHandle, err: unknown): Promise<void> {
    const open = handle.open;
    handle.open = undefined;
    handle.positions.clear();
    clearTimeout(open?.timer);
    this.metrics.aborts.inc({ application: this.topology.applicationId });
    await open?.transaction
      ?.abort()
      .catch((abortErr: unknown) => this.log.warn({ err: errorMessage(abortErr) }, 'abort failed'));
    handle.task.abort();
    this.log.warn(
      { err: errorMessage(err), partition: handle.task.partition },
      'transaction not committed; its records will be processed again',
    );
    if (open?.transaction && !(err instanceof TaskFailedError)) this.discardTask(handle);
  }

  /**
   * Drops a task whose transaction failed: its producer may be fenced, which means another
   * instance held the partition meanwhile and may have moved its stores on. The next batch
   * creates it afresh: a new producer (fencing in turn) and stores restored from the changelogs.
   */
  private discardTask(handle: TaskHandle): void {
    const { partition } = handle.task;
    const current = this.tasks.get(partition);
    if (!current) return;
    void current.then(
      (h) => {
        if (h !== handle || this.tasks.get(partition) !== current) return;
        this.tasks.delete(partition);
        handle.task.close();
        void handle.producer?.close().catch(() => undefined);
        this.log.info(
          { partition },
          'task discarded after a failed transaction; recreated by its next batch or with backoff',
        );
      },
      () => undefined,
    );
  }

  private atLeastOnceProducer(): IdempotentProducer {
    if (!this.sharedProducer) throw new Error('at-least-once producer not started');
    return this.sharedProducer;
  }

  private record(handle: TaskHandle, open: OpenCommit): void {
    const application = this.topology.applicationId;
    const { counters } = handle.task;
    for (const [processor, count] of Object.entries(counters.forwarded)) {
      const delta = count - (handle.forwardedSeen[processor] ?? 0);
      if (delta > 0) this.metrics.recordsForwarded.inc({ application, processor }, delta);
      handle.forwardedSeen[processor] = count;
    }
    for (const [reason, count] of Object.entries(counters.deadLetteredByReason)) {
      const dead = count - (handle.deadLetteredSeen[reason] ?? 0);
      if (dead > 0) this.metrics.deadLettered.inc({ processor: application, reason }, dead);
      handle.deadLetteredSeen[reason] = count;
    }
    const now = Date.now();
    for (const [topic, times] of open.outputTimes)
      for (const time of times)
        this.metrics.freshnessSeconds.observe(
          { application, topic },
          Math.max(0, now - time) / 1000,
        );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.punctuationTimer);
    await this.purger.stop();
    // Commit what tasks hold open while the consumer still is a member of the group.
    for (const [partition, handle] of [...this.tasks]) {
      this.tasks.delete(partition);
      const resolved = await handle.catch(() => undefined);
      if (resolved) await this.closeTask(resolved, true);
    }
    await this.consumer?.stop();
    for (const follower of this.followers.splice(0)) await follower.stop();
    await this.sharedProducer?.close();
    await this.stateDirectory?.close();
    this.stateDirectory = undefined;
    this.log.info('streams application stopped');
  }
}

/** Whether a store keeps its committed entries on disk. */
export function isPersistent(spec: StoreSpec, byDefault: boolean): boolean {
  if (spec.versioned || spec.changelog === false) return false;
  return spec.persistent ?? byDefault;
}

function lastOf<T>(items: readonly T[]): T {
  const last = items.at(-1);
  if (last === undefined) throw new Error('empty slice');
  return last;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
