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
// This file wires the parts, starts and stops, and dispatches batches and punctuations to
// tasks; the tasks' lifecycle is task-manager.ts's, each task's commit unit task-commit.ts's.
import type { Registry } from 'prom-client';
import { ContinuumError, errorMessage } from '../../core/errors.ts';
import type { Readiness } from '../../core/metrics-server.ts';
import type { Logger } from '../../core/logger.ts';
import { GlobalStores } from './global-stores.ts';
import { ensureTopologyTopics } from './internal-topics.ts';
import { TopologyError, type StoreSpec, type Topology } from './topology.ts';
import {
  DEFAULT_MAX_REQUEST_BYTES,
  type ConsumedRecord,
  type IdempotentProducer,
  type PartitionBatch,
  type StreamsAdmin,
  type StreamsGroupConsumer,
  type StreamsKafkaClient,
  type TopicFollower,
} from './kafka-port.ts';
import { RepartitionPurger } from './repartition-purger.ts';
import { StateDirectory } from './state-directory.ts';
import { TaskFailedError } from './stream-task.ts';
import { StreamsMetrics } from './streams-metrics.ts';
import { TaskCommitter } from './task-commit.ts';
import { StallWatch } from './stall-watch.ts';
import { InputWallClock } from './input-wall-clock.ts';
import { TaskManager, type TaskHandle } from './task-manager.ts';

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
  /**
   * at-least-once: commit once one store's pending changelog reaches this many bytes, so that
   * every changelog flush is one produce request (TaskCommitter.changelogFull). Default: half
   * the clients' request limit (DEFAULT_MAX_REQUEST_BYTES).
   */
  atLeastOnceChangelogBytes?: number;
  /** How often wall-clock punctuations are due-checked on every task (ms). */
  punctuationIntervalMs?: number;
  /** How long one poll of the input partitions' ends may take before it is given up (ms). */
  inputEndsPollDeadlineMs?: number;
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
export const DEFAULT_AT_LEAST_ONCE_CHANGELOG_BYTES = DEFAULT_MAX_REQUEST_BYTES / 2;
export const DEFAULT_PUNCTUATION_INTERVAL_MS = 1_000;
/** No fetch completed for this long: the processors' wall clock stands still (InputWallClock). */
export const INPUT_STALE_AFTER_MS = 2_000;
/** How often a debug log says the application's timers still run. */
const ALIVE_REPORT_INTERVAL_MS = 30_000;
/** Something standing still this long is reported at debug level (StallWatch). */
const STALL_REPORT_AFTER_MS = 5_000;
/** Something standing still this long is also a warning (at most one per this span). */
const STALL_WARN_AFTER_MS = 60_000;
export const DEFAULT_INPUT_ENDS_POLL_DEADLINE_MS = 10_000;
/** Longer than this without a completed fetch, and the application is not ready (/ready). */
export const READY_FETCH_AGE_MS = 15_000;
/** Records processed between two checks of the transaction bounds. */
const SLICE_RECORDS = 500;

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

/** A batch's task was discarded or closed while the batch waited for it. */
export class TaskUnavailableError extends ContinuumError {
  override readonly code = 'TASK_UNAVAILABLE';
}

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
  private consumer: StreamsGroupConsumer | undefined;
  private readonly followers: TopicFollower[] = [];
  /** The tasks of the assigned partitions and their lifecycle. */
  private readonly tasks: TaskManager;
  /** Each task's open transaction (or at-least-once commit) and its timer. */
  private readonly committer: TaskCommitter;
  private sharedProducer: IdempotentProducer | undefined;
  private readonly metrics: StreamsMetrics;
  private readonly onFatal: (error: Error) => void;
  private fatal: Error | undefined;
  private stopped = false;
  /** Deletes the repartition records the group has committed past. */
  private readonly purger: RepartitionPurger;
  private readonly punctuationIntervalMs: number;
  private readonly inputEndsPollDeadlineMs: number;
  private punctuationTimer: NodeJS.Timeout | undefined;
  /** Reads the input partitions' ends for the tasks' TaskInputProgress. */
  private endsTimer: NodeJS.Timeout | undefined;
  private endsAdmin: StreamsAdmin | undefined;
  /** The poll in flight, awaited at stop (its admin must not outlive the application). */
  private endsPoll: Promise<void> | undefined;
  /**
   * The processors' wall clock: it stands still while no fetch completes (an outage, a rejoin),
   * so "quiet for N s" means the input was read and had nothing, not that the broker was away.
   */
  private readonly inputClock = new InputWallClock({ staleAfterMs: INPUT_STALE_AFTER_MS });
  /** Where batches and task locks are, for the report of an application that stands still. */
  private readonly stallWatch: StallWatch;
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
    this.punctuationIntervalMs = options.punctuationIntervalMs ?? DEFAULT_PUNCTUATION_INTERVAL_MS;
    this.inputEndsPollDeadlineMs =
      options.inputEndsPollDeadlineMs ?? DEFAULT_INPUT_ENDS_POLL_DEADLINE_MS;
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
    this.tasks = new TaskManager({
      topology: this.topology,
      client: this.client,
      guarantee: this.guarantee,
      log: this.log,
      metrics: this.metrics,
      globalStores: this.globalStores,
      maxFutureMs: options.maxFutureMs,
      persistentStores: this.persistentStores,
      wallClock: () => this.inputClock.now(),
      commit: (handle) => this.committer.commit(handle),
      drop: (handle) => this.committer.drop(handle),
      rewind: (offsets) => this.consumer?.rewind(offsets),
    });
    this.stallWatch = new StallWatch({
      sinceFetchMs: () => this.inputClock.sinceFetchMs(),
      tasks: () =>
        this.tasks
          .created()
          .map((h) => ({ partition: h.task.partition, state: h.state, busy: h.busy })),
      log: this.log,
      reportAfterMs: STALL_REPORT_AFTER_MS,
      warnAfterMs: STALL_WARN_AFTER_MS,
      aliveEveryMs: ALIVE_REPORT_INTERVAL_MS,
    });
    this.committer = new TaskCommitter({
      applicationId: this.topology.applicationId,
      guarantee: this.guarantee,
      log: this.log,
      debug: this.debug,
      metrics: this.metrics,
      commitIntervalMs: options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
      maxTransactionRecords: options.maxTransactionRecords ?? DEFAULT_MAX_TRANSACTION_RECORDS,
      maxTransactionBytes: options.maxTransactionBytes ?? DEFAULT_MAX_TRANSACTION_BYTES,
      atLeastOnceChangelogBytes:
        options.atLeastOnceChangelogBytes ?? DEFAULT_AT_LEAST_ONCE_CHANGELOG_BYTES,
      // External topics the application writes (freshness is measured on these).
      outputTopics: new Set(
        this.topology
          .sinks()
          .filter((s) => !s.internal)
          .map((s) => s.topic),
      ),
      consumer: () => this.consumer,
      producer: () => this.atLeastOnceProducer(),
      stopped: () => this.stopped,
      withLock: (handle, label, work) => this.tasks.withLock(handle, label, work),
      onCommitted: (offsets) => this.purger.committed(offsets),
      onTransactionFailed: (handle) => this.tasks.discard(handle),
      onFailedOutsideBatch: (handle, err) => this.tasks.failOutsideBatch(handle, err),
    });
  }

  /** Input partitions this instance has tasks for. */
  get partitions(): number[] {
    return this.tasks.partitions;
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
      this.tasks.useStateDirectory(this.stateDirectory);
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
        this.tasks.assign(assigned);
        this.log.info({ partitions: [...assigned].sort((a, b) => a - b) }, 'partitions assigned');
        // A rebalance may rewind kept partitions to their committed offsets: commit what is open.
        this.commitAllOpen();
        void this.tasks.closeExcept(assigned);
        // Create tasks now, not on their first batch (their producers fence a dead instance).
        this.tasks.createAssigned();
      },
      onLost: () => {
        if (this.stopped) return;
        this.log.warn(
          { partitions: this.partitions },
          'group membership lost; closing every task without committing',
        );
        this.tasks.lostAll();
      },
      onFetched: () => this.inputClock.fetched(),
      onRead: (read) => this.noteRead(read),
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
      this.endsTimer = setInterval(() => {
        this.stallWatch.report();
        this.endsPoll ??= this.pollInputEndsWithin(this.inputEndsPollDeadlineMs).finally(
          () => (this.endsPoll = undefined),
        );
      }, this.punctuationIntervalMs);
      this.endsTimer.unref();
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

  /** Starts a commit of every task's open work (each after what runs on it). */
  private commitAllOpen(): void {
    this.tasks.forEach('commit-all', (handle) => this.committer.commit(handle));
  }

  private async processBatch(batch: PartitionBatch): Promise<void> {
    if (batch.records.length === 0 || this.stopped) return;
    // Work outside a batch failed on this partition: rewind to the last commit first.
    const failure = this.tasks.takeFailure(batch.partition);
    if (failure) throw failure;
    const id = this.stallWatch.begin(batch.topic, batch.partition);
    try {
      const handle = await this.tasks.taskFor(batch.partition);
      this.stallWatch.stage(id, 'lock');
      await this.tasks.withLock(handle, 'batch', () => {
        this.stallWatch.stage(id, 'processing');
        return this.processLocked(handle, batch);
      });
    } finally {
      this.stallWatch.done(id);
    }
  }

  private async processLocked(handle: TaskHandle, batch: PartitionBatch): Promise<void> {
    // The batch waited for the lock behind a commit of this task (commits run after the batch
    // that made them due, without holding the consumer). If that commit failed, its records
    // are not in Kafka: this batch, which follows them, must not be processed and committed
    // in their place. Failing it rewinds the partition to the last commit.
    const failure = this.tasks.takeFailure(batch.partition);
    if (failure) throw failure;
    if (handle.state !== 'running')
      throw new TaskUnavailableError(
        `task ${batch.partition} is ${handle.state}: its batch of ${batch.topic} is read again from the last commit`,
        { retriable: true, context: { topic: batch.topic, partition: batch.partition } },
      );
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
    // A rewind made this batch out of date: its records come again from the last commit.
    if (records.length === 0 || batch.isStale?.()) return;
    // In slices, so that one transaction never holds more than its bounds, whatever the fetch
    // handed over: a replay's backlog arrives in batches of any size.
    for (let from = 0; from < records.length; from += SLICE_RECORDS) {
      const slice = records.slice(from, from + SLICE_RECORDS);
      const last = from + SLICE_RECORDS >= records.length;
      const next = last ? batch.nextOffset : (BigInt(lastOf(slice).offset) + 1n).toString();
      await this.processSlice(handle, batch, slice, next);
      if (this.committer.full(handle) || (await this.committer.changelogFull(handle)))
        await this.committer.commit(handle);
    }
    await this.committer.schedule(handle);
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
    const open = await this.committer.begin(handle);
    try {
      for (const record of records) {
        const processing = task.process(
          { topic: batch.topic, partition: batch.partition, offset: record.offset },
          {
            key: record.key,
            value: record.value,
            timestamp: record.timestamp,
            headers: record.headers,
          },
        );
        // Synchronous serdes: no microtask turn per record.
        if (processing) await processing;
      }
      stopProcessing();
      await this.committer.add(handle, open);
      open.records += records.length;
      const key = `${batch.topic}:${batch.partition}`;
      handle.positions.set(key, BigInt(nextOffset));
      handle.progress.read(key, BigInt(nextOffset));
      open.offsets.set(key, { topic: batch.topic, partition: batch.partition, offset: nextOffset });
    } catch (err) {
      await this.committer.abort(handle, err);
      throw err;
    }
  }

  /** A fetch told where a partition ends, or that the consumer read past markers. */
  private noteRead(read: {
    topic: string;
    partition: number;
    nextOffset?: string;
    highWatermark?: string;
  }): void {
    const { topic, partition, nextOffset, highWatermark } = read;
    const key = `${topic}:${partition}`;
    void this.tasks
      .taskIfAny(partition)
      ?.then((handle) => {
        if (nextOffset !== undefined) handle.progress.read(key, BigInt(nextOffset));
        if (highWatermark !== undefined)
          handle.progress.end(key, { low: 0n, high: BigInt(highWatermark) });
      })
      .catch(() => undefined);
  }

  /**
   * One poll of the input ends, given up after `deadlineMs` with its admin closed: a poll that
   * never answered would hold every later one back (and stop(), which waits for it), and a task
   * whose end is unknown (read to its end before a restart: no fetch brings its high watermark)
   * would stand still for good, its held readings and waiting deliveries never released. One
   * SIGKILL chaos run ended that way after the task's first poll; cause not proven. The next poll
   * starts with a new admin.
   */
  private async pollInputEndsWithin(deadlineMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const poll = this.pollInputEnds();
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
      timer.unref();
    });
    try {
      if ((await Promise.race([poll, late])) !== 'late') return;
    } finally {
      clearTimeout(timer);
    }
    this.log.warn({ deadlineMs }, 'input end offsets did not answer in time; new admin next poll');
    const admin = this.endsAdmin;
    this.endsAdmin = undefined;
    await admin?.close().catch(() => undefined);
  }

  /**
   * Asks where every input partition ends, for the tasks' TaskInputProgress: a partition the
   * consumer does not fetch now (starved behind other partitions' batches, or its leader away)
   * says nothing by itself. One request at a time; a failed one keeps what was known.
   */
  private async pollInputEnds(): Promise<void> {
    if (this.stopped) return;
    try {
      const handles = this.tasks.created();
      if (handles.length === 0) return;
      if (this.debug)
        for (const { task, progress } of handles)
          if (progress.behind)
            this.log.debug(
              { partition: task.partition, behind: progress.behindOn() },
              'task behind on its inputs: its wall clock stands still',
            );
      let admin = this.endsAdmin;
      if (!admin) {
        admin = await this.client.admin();
        // Stopped meanwhile, or a poll started after this one was given up has its own admin.
        if (this.stopped || this.endsAdmin) {
          await admin.close().catch(() => undefined);
          return;
        }
        this.endsAdmin = admin;
      }
      for (const topic of this.topology.inputTopics()) {
        if (this.stopped) return;
        for (const { partition, low, high } of await admin.endOffsets(topic)) {
          const end = { low: BigInt(low), high: BigInt(high) };
          for (const handle of handles)
            if (handle.task.partition === partition)
              handle.progress.end(`${topic}:${partition}`, end);
        }
      }
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'input end offsets not read; kept the last known');
      const admin = this.endsAdmin;
      this.endsAdmin = undefined;
      await admin?.close().catch(() => undefined);
    }
  }

  /** Fires due wall-clock punctuations on every task, each after what runs on it. */
  private punctuateAll(): void {
    if (this.stopped) return;
    this.tasks.recreateMissing(Date.now());
    this.tasks.forEach('punctuate', (handle) => this.punctuateLocked(handle));
  }

  /**
   * Runs the task's wall-clock punctuations; what they forward or write joins the open
   * transaction (begun only when they did something) and is committed like processed records.
   */
  private async punctuateLocked(handle: TaskHandle): Promise<void> {
    if (this.stopped || this.tasks.size === 0 || handle.state !== 'running') return;
    const { task } = handle;
    try {
      task.punctuateWallClock();
    } catch (err) {
      await this.committer.abort(handle, err);
      throw err;
    }
    if (!task.hasPendingWork) return;
    const open = await this.committer.begin(handle);
    try {
      await this.committer.add(handle, open);
    } catch (err) {
      await this.committer.abort(handle, err);
      throw err;
    }
    await this.committer.schedule(handle);
  }

  private atLeastOnceProducer(): IdempotentProducer {
    if (!this.sharedProducer) throw new Error('at-least-once producer not started');
    return this.sharedProducer;
  }

  /**
   * Whether the application processes its input now (/ready): it has started, has not failed,
   * every partition the group gave it has a running task, and its consumer's fetches complete
   * (none for READY_FETCH_AGE_MS: the broker is unreachable or the group is rejoining). An
   * instance the group gave no partition is ready: it has nothing to do.
   */
  readiness(): Readiness {
    const application = this.topology.applicationId;
    if (this.fatal) return { ready: false, detail: { application, failed: this.fatal.message } };
    if (this.stopped) return { ready: false, detail: { application, waitingFor: 'stopped' } };
    if (!this.consumer) return { ready: false, detail: { application, waitingFor: 'start' } };
    const tasks = this.tasks.notRunning();
    if (tasks.length > 0)
      return { ready: false, detail: { application, waitingFor: 'tasks', tasks } };
    const fetchAgeMs = this.inputClock.sinceFetchMs();
    if (this.tasks.size > 0 && (fetchAgeMs === undefined || fetchAgeMs > READY_FETCH_AGE_MS))
      return {
        ready: false,
        detail: {
          application,
          waitingFor: 'fetch',
          fetchAgeMs: fetchAgeMs === undefined ? null : Math.round(fetchAgeMs),
        },
      };
    return { ready: true, detail: { application, partitions: this.tasks.partitions } };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.punctuationTimer);
    clearInterval(this.endsTimer);
    await this.endsPoll;
    await this.endsAdmin?.close().catch(() => undefined);
    this.endsAdmin = undefined;
    await this.purger.stop();
    // Commit what tasks hold open while the consumer still is a member of the group.
    await this.tasks.closeAll();
    await this.tasks.closeAdmin();
    await this.consumer?.stop();
    for (const follower of this.followers.splice(0)) await follower.stop();
    await this.sharedProducer?.close();
    await this.stateDirectory?.close();
    this.stateDirectory = undefined;
    this.tasks.useStateDirectory(undefined);
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
