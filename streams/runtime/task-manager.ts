// The tasks of the partitions the group gave this instance (Kafka Streams' TaskManager): creates
// them (producer first, so that its init fences earlier owners, then the restore), closes them
// when their partition moves or the application stops (committing first, with a checkpoint of
// the stores on disk at stop), closes them all unfinished when the membership is lost, discards
// a task whose transaction failed, and creates missing tasks of assigned partitions again with
// backoff. Each task's state moves along task-state.ts's table.
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { restoreTaskStores } from './changelog-restore.ts';
import type { GlobalStores } from './global-stores.ts';
import type {
  StreamsAdmin,
  StreamsKafkaClient,
  TopicPartitionOffset,
  TransactionalProducer,
} from './kafka-port.ts';
import type { StateDirectory } from './state-directory.ts';
import { createStore, type StoreFactory } from './store-changelog.ts';
import { StreamTask } from './stream-task.ts';
import { TaskInputProgress } from './task-input-progress.ts';
import type { ProcessingGuarantee } from './streams-application.ts';
import type { StreamsMetrics } from './streams-metrics.ts';
import { asError, type OpenCommit } from './task-commit.ts';
import { canTransition, transition, type TaskState } from './task-state.ts';
import { changelogTopic, type Topology } from './topology.ts';

/** What holds a task's lock: a named piece of work, since `since` (ms). */
export interface TaskBusy {
  work: string;
  since: number;
}

export interface TaskHandle {
  task: StreamTask;
  producer: TransactionalProducer | undefined;
  state: TaskState;
  forwardedSeen: Record<string, number>;
  deadLetteredSeen: Record<string, number>;
  /** Batches, timed commits and closing take turns on a task. */
  lock: Promise<unknown>;
  /** The work holding the lock and since when (for StallWatch); undefined: free. */
  busy: TaskBusy | undefined;
  open: OpenCommit | undefined;
  /**
   * When the task's last commit began, or the task was created: the commit interval counts from
   * here (TaskCommitter.schedule), as Kafka Streams' `commit.interval.ms` counts from the last
   * commit.
   */
  lastCommitAt: number;
  /**
   * Next offset to process per `topic:partition`. A consumer may hand over records again that
   * the open transaction already holds (a rebalance rewinds to the committed offsets); they are
   * skipped. Forgotten when the open work is dropped, so the rewind then replays them.
   */
  positions: Map<string, bigint>;
  /** How far the task read its inputs; its processors' wall clock stands still while behind. */
  progress: TaskInputProgress;
}

export interface TaskManagerOptions {
  topology: Topology;
  client: StreamsKafkaClient;
  guarantee: ProcessingGuarantee;
  log: Logger;
  metrics: StreamsMetrics;
  globalStores: GlobalStores;
  maxFutureMs: number | undefined;
  /** Stores kept on disk, by name. */
  persistentStores: ReadonlySet<string>;
  /** The processors' wall clock (an InputWallClock's `now`; default: real time). */
  wallClock?: () => number;
  /** Commits a task's open work before it closes cleanly (TaskCommitter.commit). */
  commit: (handle: TaskHandle) => Promise<void>;
  /** Drops a task's open work before it closes unfinished (TaskCommitter.drop). */
  drop: (handle: TaskHandle) => Promise<void>;
  /** Reads the partition's inputs again from these offsets (the group consumer's rewind). */
  rewind: (offsets: readonly TopicPartitionOffset[]) => void;
}

export class TaskManager {
  private readonly options: TaskManagerOptions;
  private readonly log: Logger;
  private readonly tasks = new Map<number, Promise<TaskHandle>>();
  /** What each creation in `tasks` resolved to, once it has. */
  private readonly createdHandles = new WeakMap<Promise<TaskHandle>, TaskHandle>();
  /**
   * Partitions the group gave this instance. A task of one may be missing (its creation failed,
   * or it was discarded after a failed transaction): it is created again with backoff, not only
   * on its next batch, which a bounded input that has ended never sends — and the task's
   * wall-clock work (the quiet flush of what waits) would never run.
   */
  private assigned: ReadonlySet<number> = new Set();
  private readonly recreation = new Map<number, { at: number; delayMs: number }>();
  /**
   * Failures of work that ran outside a batch (a timed commit, a punctuation), by partition.
   * The consumer may have fetched past the last commit, so the partition's next batch throws the
   * failure and the consumer rewinds to the committed offsets. Kept here, not on the task, which
   * is discarded meanwhile (its producer may be fenced or stuck in a transaction).
   */
  private readonly failures = new Map<number, Error>();
  private stateDirectory: StateDirectory | undefined;
  /** The admin for committed offsets and checkpoints, opened on first use (withAdmin). */
  private admin: Promise<StreamsAdmin> | undefined;

  constructor(options: TaskManagerOptions) {
    this.options = options;
    this.log = options.log;
  }

  /** Where the stores on disk live (opened by the application at start, closed at stop). */
  useStateDirectory(directory: StateDirectory | undefined): void {
    this.stateDirectory = directory;
  }

  /** Input partitions this instance has tasks for. */
  get partitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.tasks.size;
  }

  /** The partitions the group now gives this instance (tasks are created and closed apart). */
  assign(partitions: ReadonlySet<number>): void {
    this.assigned = partitions;
    this.recreation.clear();
    for (const partition of [...this.failures.keys()])
      if (!partitions.has(partition)) this.failures.delete(partition);
  }

  /**
   * Work on the task failed outside a batch. The task is discarded, created again with backoff
   * (or by its partition's next batch), and that next batch fails first so that the consumer
   * rewinds to the last commit. Before, the task kept the failure to itself and skipped its
   * punctuations until a batch came: after a broker outage at the end of a bounded input, none
   * came and what it held waited for ever.
   */
  failOutsideBatch(handle: TaskHandle, err: unknown): void {
    const error = asError(err);
    const { partition } = handle.task;
    this.failures.set(partition, error);
    this.log.warn(
      { partition, err: error.message },
      'task work outside a batch failed: the task is discarded and created again, and its next batch rewinds to the last commit',
    );
    this.discard(handle);
  }

  /**
   * Work on the partition failed outside a batch and no batch has carried the failure since (a
   * bounded input that has ended sends none): the consumer may have read past the last commit,
   * so its inputs are read again from there before the new task runs.
   */
  private async rewindIfFailed(partition: number, handle: TaskHandle): Promise<void> {
    if (!this.failures.has(partition)) return;
    const committed = handle.producer ? handle.positions : await this.committedPositions(partition);
    this.failures.delete(partition);
    const offsets = this.options.topology.inputTopics().map((topic) => ({
      topic,
      partition,
      offset: (committed.get(`${topic}:${partition}`) ?? 0n).toString(),
    }));
    this.options.rewind(offsets);
    this.log.info(
      { partition, offsets: offsets.map((o) => `${o.topic}@${o.offset}`) },
      'inputs rewound to the last commit after work outside a batch failed',
    );
  }

  /** The failure the partition's next batch must throw (once), if work outside a batch failed. */
  takeFailure(partition: number): Error | undefined {
    const failure = this.failures.get(partition);
    this.failures.delete(partition);
    return failure;
  }

  /**
   * Starts creating the task of every assigned partition: initializing a task's transactional
   * producer fences a dead instance and aborts its open transaction, which otherwise holds back
   * read_committed readers of the partitions it wrote (repartitions, outputs) until it times out.
   */
  createAssigned(): void {
    for (const partition of this.assigned) {
      this.taskFor(partition).catch((err: unknown) =>
        this.log.warn(
          { partition, err: errorMessage(err) },
          'task creation failed; retried on its next batch or with backoff',
        ),
      );
    }
  }

  /** The partition's task, created (and restored) if it has none. */
  taskFor(partition: number): Promise<TaskHandle> {
    let handle = this.tasks.get(partition);
    if (!handle) {
      const pending = this.createTask(partition);
      handle = pending;
      pending.then((created) => this.createdHandles.set(pending, created)).catch(() => undefined);
      this.tasks.set(partition, handle);
      handle.catch(() => this.tasks.delete(partition));
    }
    return handle;
  }

  /**
   * Runs `work` on every task once whatever runs on it has finished; a task whose work fails is
   * discarded and its partition rewinds on its next batch (failOutsideBatch).
   */
  forEach(label: string, work: (handle: TaskHandle) => Promise<void>): void {
    for (const pending of this.tasks.values()) {
      void pending
        .then((handle) =>
          this.withLock(handle, label, () => work(handle)).catch((err: unknown) => {
            this.failOutsideBatch(handle, err);
          }),
        )
        .catch(() => undefined);
    }
  }

  /** The tasks created so far (not those still being created), without waiting on anything. */
  created(): TaskHandle[] {
    const handles: TaskHandle[] = [];
    for (const pending of this.tasks.values()) {
      const handle = this.createdHandles.get(pending);
      if (handle) handles.push(handle);
    }
    return handles;
  }

  /**
   * The assigned partitions whose task does not run yet (starting: its producer fencing earlier
   * owners, its stores restoring; or missing after a failure, waiting to be created again),
   * without waiting on anything.
   */
  notRunning(): { partition: number; state: TaskState | 'starting' | 'missing' }[] {
    const waiting: { partition: number; state: TaskState | 'starting' | 'missing' }[] = [];
    for (const partition of [...this.assigned].sort((a, b) => a - b)) {
      const pending = this.tasks.get(partition);
      const handle = pending && this.createdHandles.get(pending);
      const state = pending === undefined ? 'missing' : (handle?.state ?? 'starting');
      if (state !== 'running') waiting.push({ partition, state });
    }
    return waiting;
  }

  /** The partition's task if it exists (or is being created), without creating one. */
  taskIfAny(partition: number): Promise<TaskHandle> | undefined {
    return this.tasks.get(partition);
  }

  /** Runs `work` (named `label` in stall reports) on the task once what runs on it finished. */
  withLock<T>(handle: TaskHandle, label: string, work: () => Promise<T>): Promise<T> {
    const timed = async (): Promise<T> => {
      handle.busy = { work: label, since: Date.now() };
      try {
        return await work();
      } finally {
        handle.busy = undefined;
      }
    };
    const run = handle.lock.then(timed, timed);
    handle.lock = run.catch(() => undefined);
    return run;
  }

  private async createTask(partition: number): Promise<TaskHandle> {
    const { topology, client, metrics } = this.options;
    // Taken (and removed) now: until this task closes cleanly, a crash must find no checkpoint.
    const checkpoint = this.stateDirectory?.takeCheckpoint(partition) ?? new Map<string, string>();
    const progress = new TaskInputProgress(
      topology.inputTopics().map((topic) => `${topic}:${partition}`),
      this.options.wallClock ?? Date.now,
    );
    const task = new StreamTask(topology, partition, {
      clock: () => progress.now(),
      systemClock: Date.now,
      globalStores: this.options.globalStores,
      maxFutureMs: this.options.maxFutureMs,
      storeFactory: this.storeFactory(partition),
    });
    const handle: TaskHandle = {
      task,
      producer: undefined,
      state: 'created',
      forwardedSeen: {},
      deadLetteredSeen: {},
      lock: Promise.resolve(),
      busy: undefined,
      open: undefined,
      lastCommitAt: Date.now(),
      positions: new Map(),
      progress,
    };
    try {
      // The producer first: its init fences a zombie and aborts its open transaction, which would
      // otherwise hold the changelog's read_committed end back and stall the restore.
      handle.producer =
        this.options.guarantee === 'exactly-once'
          ? await client.transactionalProducer(`${topology.applicationId}-${partition}`)
          : undefined;
    } catch (err) {
      this.move(handle, 'closed');
      throw err;
    }
    this.move(handle, 'restoring');
    try {
      const committed = await this.committedPositions(partition);
      if (handle.producer) handle.positions = committed;
      for (const [key, offset] of committed) progress.read(key, offset);
      await this.rewindIfFailed(partition, handle);
      const application = topology.applicationId;
      const stop = metrics.restoreSeconds.startTimer({ application });
      const restored = await restoreTaskStores(
        client,
        topology,
        partition,
        (name) => task.stateStore(name),
        this.log,
        checkpoint,
      );
      stop();
      metrics.restoredRecords.inc(
        { application, start: 'beginning' },
        restored.records - restored.tailRecords,
      );
      metrics.restoredRecords.inc({ application, start: 'checkpoint' }, restored.tailRecords);
    } catch (err) {
      await handle.producer?.close().catch(() => undefined);
      this.move(handle, 'closed');
      throw err;
    }
    this.move(handle, 'running');
    this.log.info({ partition }, 'task ready');
    return handle;
  }

  private move(handle: TaskHandle, to: TaskState): void {
    handle.state = transition(handle.task.partition, handle.state, to);
  }

  private storeFactory(partition: number): StoreFactory {
    const directory = this.stateDirectory;
    return (spec) =>
      directory && this.options.persistentStores.has(spec.name)
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
    const { persistentStores, topology } = this.options;
    if (!directory || persistentStores.size === 0) return;
    const { partition } = handle.task;
    const offsets = new Map<string, string>();
    await this.withAdmin(async (admin) => {
      for (const name of persistentStores) {
        const topic = changelogTopic(topology.applicationId, name);
        const end = (await admin.endOffsets(topic)).find((o) => o.partition === partition);
        if (end) offsets.set(name, end.high);
      }
    });
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
    const { topology } = this.options;
    const committed = await this.withAdmin((admin) =>
      admin.committedOffsets(topology.applicationId, topology.inputTopics(), partition),
    );
    return new Map(
      [...committed].map(([topic, offset]) => [`${topic}:${partition}`, BigInt(offset)]),
    );
  }

  /**
   * Runs `work` on the application's admin, opened on first use and kept for every task's
   * creation and checkpoint (one admin, not one or two per task). After a failure it is closed
   * and the next call opens a new one: a connection an outage broke is not kept.
   */
  private async withAdmin<T>(work: (admin: StreamsAdmin) => Promise<T>): Promise<T> {
    const opening = (this.admin ??= this.options.client.admin());
    const forget = async (): Promise<void> => {
      if (this.admin !== opening) return;
      this.admin = undefined;
      await (await opening.catch(() => undefined))?.close().catch(() => undefined);
    };
    let admin: StreamsAdmin;
    try {
      admin = await opening;
    } catch (err) {
      await forget();
      throw err;
    }
    try {
      return await work(admin);
    } catch (err) {
      await forget();
      throw err;
    }
  }

  /** Closes the admin tasks share (at stop, after closeAll). */
  async closeAdmin(): Promise<void> {
    const opening = this.admin;
    this.admin = undefined;
    await (await opening?.catch(() => undefined))?.close().catch(() => undefined);
  }

  /** Closes (committing first) the tasks of partitions that moved to another instance. */
  async closeExcept(assigned: ReadonlySet<number>): Promise<void> {
    for (const [partition, handle] of [...this.tasks]) {
      if (assigned.has(partition)) continue;
      this.tasks.delete(partition);
      const resolved = await handle.catch(() => undefined);
      if (resolved) await this.closeTask(resolved);
      this.log.info({ partition }, 'task closed (partition moved to another instance)');
    }
  }

  /** Closes every task, committing first and checkpointing its stores on disk (at stop). */
  async closeAll(): Promise<void> {
    for (const [partition, handle] of [...this.tasks]) {
      this.tasks.delete(partition);
      const resolved = await handle.catch(() => undefined);
      if (resolved) await this.closeTask(resolved, true);
    }
  }

  /** Creates the tasks of assigned partitions that have none, each with its own backoff (1 s → 30 s). */
  recreateMissing(now: number): void {
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

  /**
   * The membership is lost: nothing is ours until the group assigns it again. Drops every task
   * without committing: their open transactions aborted (the next owner's producer fenced them
   * anyway), their stores and producers closed. Tasks assigned again are created afresh,
   * restored from their changelogs, from the committed offsets.
   */
  lostAll(): void {
    this.assigned = new Set();
    const lost = [...this.tasks.values()];
    this.tasks.clear();
    for (const pending of lost) {
      void pending
        .then((handle) =>
          this.withLock(handle, 'close-lost', async () => {
            // A task leaves the map once; one closed already (a race of closes) stays closed.
            if (!canTransition(handle.state, 'closing')) return;
            this.move(handle, 'closing');
            await this.options.drop(handle);
            handle.task.close();
            await handle.producer?.close().catch(() => undefined);
            this.move(handle, 'closed');
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
    // A task leaves the map once; one closed already (a race of closes) stays closed.
    if (!canTransition(handle.state, 'closing')) return;
    this.move(handle, 'closing');
    const committed = await this.withLock(handle, 'commit-on-close', () =>
      this.options.commit(handle),
    ).then(
      () => true,
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
    this.move(handle, 'closed');
  }

  /**
   * Drops a task whose transaction (or other work outside a batch) failed: its producer may be
   * fenced, which means another instance held the partition meanwhile and may have moved its
   * stores on. The next batch, or the backoff, creates it afresh: a new producer (fencing in
   * turn) and stores restored from the changelogs.
   */
  discard(handle: TaskHandle): void {
    const { partition } = handle.task;
    const current = this.tasks.get(partition);
    if (!current) return;
    void current.then(
      (h) => {
        if (h !== handle || this.tasks.get(partition) !== current) return;
        if (!canTransition(handle.state, 'discarded')) return;
        this.tasks.delete(partition);
        this.move(handle, 'discarded');
        handle.task.close();
        void handle.producer?.close().catch(() => undefined);
        this.log.info(
          { partition },
          'task discarded after a failure; recreated by its next batch or with backoff',
        );
      },
      () => undefined,
    );
  }
}
