// A task's unit of commit (Kafka Streams' StreamsProducer and commit path, quix-streams'
// PartitionTransaction): begun when a task first has something to write, added to by every
// processed slice and punctuation, committed when the commit interval has passed (its timer),
// when it reaches its bounds, at a rebalance and at stop, or aborted. exactly-once: one
// transaction holds outputs, changelogs and input offsets; at-least-once: outputs go out as
// they come, changelogs and then input offsets at the commit. Store writes fold in only after
// Kafka committed them.
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import {
  recordSize,
  type IdempotentProducer,
  type StreamsGroupConsumer,
  type StreamsTransaction,
  type TopicPartitionOffset,
} from './kafka-port.ts';
import { TaskFailedError, type TaskOutput } from './stream-task.ts';
import type { ProcessingGuarantee } from './streams-application.ts';
import type { StreamsMetrics } from './streams-metrics.ts';
import type { TaskHandle } from './task-manager.ts';

/** What a task has written since its last commit. */
export interface OpenCommit {
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
  /**
   * The sends of this unit so far, chained (one after another, in order: an idempotent
   * producer's sequence numbers allow no two at once). Processing goes on while they are in
   * flight; the commit waits for them, and a failed one fails the next `add` or the commit.
   */
  sending: Promise<void>;
  /** The first send that failed: the unit can only be aborted now. */
  sendFailed: { error: unknown } | undefined;
  /** The changelog `changelogFull` just encoded, for the commit it calls for (none written since). */
  preparedChangelog?: TaskOutput[];
}

export interface TaskCommitterOptions {
  applicationId: string;
  guarantee: ProcessingGuarantee;
  log: Logger;
  /** Per-commit debug lines: built only when they will be written (hot path). */
  debug: boolean;
  metrics: StreamsMetrics;
  commitIntervalMs: number;
  maxTransactionRecords: number;
  maxTransactionBytes: number;
  /**
   * at-least-once: a commit is due once one store's pending changelog reaches this many bytes
   * (changelogFull), half of what one produce request carries per topic.
   */
  atLeastOnceChangelogBytes: number;
  /** External topics the application writes (freshness is measured on these). */
  outputTopics: ReadonlySet<string>;
  /** The group consumer, once started (input offsets are committed through it). */
  consumer: () => StreamsGroupConsumer | undefined;
  /** The shared idempotent producer (at-least-once). */
  producer: () => IdempotentProducer;
  /** Whether the application is stopping: open work is then committed at once. */
  stopped: () => boolean;
  /** Runs work on the task once whatever runs on it has finished (TaskManager.withLock). */
  withLock: <T>(handle: TaskHandle, label: string, work: () => Promise<T>) => Promise<T>;
  /** Input offsets just committed (the repartition purger deletes below them). */
  onCommitted: (offsets: readonly TopicPartitionOffset[]) => void;
  /** A transaction failed (not a processor's `fail`): its task is to be discarded. */
  onTransactionFailed: (handle: TaskHandle) => void;
  /** A timed commit failed, outside any batch (TaskManager.failOutsideBatch). */
  onFailedOutsideBatch: (handle: TaskHandle, err: unknown) => void;
}

export class TaskCommitter {
  private readonly options: TaskCommitterOptions;

  constructor(options: TaskCommitterOptions) {
    this.options = options;
  }

  /** The task's open work, begun (with its transaction, exactly-once) when there is none. */
  async begin(handle: TaskHandle): Promise<OpenCommit> {
    handle.open ??= {
      transaction: handle.producer ? await handle.producer.begin() : undefined,
      offsets: new Map(),
      outputTimes: new Map(),
      bytes: 0,
      records: 0,
      startedAt: Date.now(),
      timer: undefined,
      sending: Promise.resolve(),
      sendFailed: undefined,
    };
    return handle.open;
  }

  /**
   * Sends what the task forwarded to sinks and dead-lettered: in the transaction, or as it
   * comes. Returns once the send is queued, not acknowledged: the task processes its next
   * records meanwhile (the round trip used to hold the whole consumer), and `commit` waits for
   * every send of the unit before it adds the changelogs and the offsets. Throws if an earlier
   * send of the unit failed.
   */
  async add(handle: TaskHandle, open: OpenCommit): Promise<void> {
    if (open.sendFailed) throw open.sendFailed.error;
    open.preparedChangelog = undefined;
    const outputs = await handle.task.drainOutputs();
    if (outputs.length === 0) return;
    const { transaction } = open;
    const send = transaction
      ? () => transaction.send(outputs)
      : () => this.options.producer().send(outputs);
    open.sending = open.sending.then(send);
    open.sending.catch((error: unknown) => (open.sendFailed ??= { error }));
    for (const output of outputs) {
      open.bytes += recordSize(output);
      if (!this.options.outputTopics.has(output.topic)) continue;
      let times = open.outputTimes.get(output.topic);
      if (!times) {
        times = [];
        open.outputTimes.set(output.topic, times);
      }
      times.push(output.timestamp);
    }
  }

  /** Whether the task's open work holds its bounds' worth of input records or output bytes. */
  full(handle: TaskHandle): boolean {
    const open = handle.open;
    return (
      open !== undefined &&
      (open.records >= this.options.maxTransactionRecords ||
        open.bytes >= this.options.maxTransactionBytes)
    );
  }

  /**
   * Has the task's open work committed once the commit interval has passed since the task's
   * last commit: at once when it has, else on a timer. The interval counts from the last commit,
   * not from when this work began (Kafka Streams' `maybeCommit`), so a task still commits at
   * most once per interval, but input that comes after a quiet spell goes out at once, and input
   * that comes in bursts (another application's transactions, visible at each commit) waits only
   * for the rest of the interval instead of a whole one (the join's hop of the pipeline, fed by
   * the cleaner: its wait from first record to commit, p50, ~100 → 76 ms). Either way the
   * commit runs after what holds the task's lock now (the caller's batch) and the caller does
   * not wait for it: the consumer goes on with other tasks' batches and its next fetch while
   * the commit's round trips are in flight (a batch of this task waits for the lock). A commit that fails is work failed outside a batch
   * (onFailedOutsideBatch: the task is discarded, its partition rewinds). While the application
   * stops, the commit is awaited.
   */
  async schedule(handle: TaskHandle): Promise<void> {
    const open = handle.open;
    if (!open) return;
    if (this.options.stopped()) {
      await this.commit(handle);
      return;
    }
    const due = handle.lastCommitAt + this.options.commitIntervalMs - Date.now();
    const commitLater = (): void => {
      void this.options
        .withLock(handle, 'timed-commit', () =>
          handle.open === open ? this.commit(handle) : Promise.resolve(),
        )
        .catch((err: unknown) => this.options.onFailedOutsideBatch(handle, err));
    };
    if (due <= 0) {
      clearTimeout(open.timer);
      commitLater();
      return;
    }
    open.timer ??= setTimeout(commitLater, due);
  }

  /**
   * at-least-once: whether one store's pending changelog has reached `atLeastOnceChangelogBytes`.
   * Without a transaction, a changelog flush is all-or-nothing against a crash only while it is
   * one produce request (IdempotentProducer.send): split in two, a kill between them restored
   * one store ahead of another, and a processor whose state drops what it has seen (the join's
   * readings: a replayed reading is stale) then lost what the other store never got (a trip's
   * checkpoints: a delivery without its example, seen in the SIGKILL chaos scenario). Committing
   * at half the request's bytes keeps every flush within one request, as long as one slice of
   * records writes less than that to one store. Exactly-once has its transaction: always false.
   */
  async changelogFull(handle: TaskHandle): Promise<boolean> {
    if (this.options.guarantee !== 'at-least-once' || !handle.open || !handle.task.hasPendingWrites)
      return false;
    const changelog = await handle.task.prepareChangelog();
    const perTopic = new Map<string, number>();
    for (const record of changelog)
      perTopic.set(record.topic, (perTopic.get(record.topic) ?? 0) + recordSize(record));
    if (Math.max(0, ...perTopic.values()) < this.options.atLeastOnceChangelogBytes) return false;
    handle.open.preparedChangelog = changelog;
    return true;
  }

  /** Commits the task's open work: changelogs and input offsets (in its transaction). */
  async commit(handle: TaskHandle): Promise<void> {
    const open = handle.open;
    if (!open) return;
    clearTimeout(open.timer);
    handle.lastCommitAt = Date.now();
    const { applicationId: application, metrics, log } = this.options;
    const consumer = this.options.consumer();
    const stopCommit = metrics.commitSeconds.startTimer({
      application,
      guarantee: this.options.guarantee,
    });
    try {
      if (!consumer) throw new Error('consumer not started');
      // Every output send of the unit first (at-least-once: outputs before state).
      await open.sending;
      const changelog = open.preparedChangelog ?? (await handle.task.prepareChangelog());
      const offsets = [...open.offsets.values()];
      if (open.transaction) {
        await open.transaction.send(changelog);
        if (offsets.length > 0) await open.transaction.sendOffsets(consumer, offsets);
        await open.transaction.commit();
      } else {
        await this.options.producer().send(changelog);
        await consumer.commitOffsets(offsets);
      }
      handle.open = undefined;
      this.options.onCommitted(offsets);
      if (this.options.debug)
        log.debug(
          {
            partition: handle.task.partition,
            offsets: offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`),
            changelog: changelog.length,
            changelogBytes: changelog.reduce((n, r) => n + recordSize(r), 0),
            records: open.records,
            bytes: open.bytes,
            openMs: Date.now() - open.startedAt,
          },
          'committed',
        );
      // Kafka has the writes now: fold them into the stores.
      handle.task.commitStores();
      stopCommit();
      metrics.recordsProcessed.inc({ application }, open.records);
      this.record(handle, open);
    } catch (err) {
      await this.abort(handle, err);
      throw err;
    }
  }

  /** Drops the task's open work: the transaction aborted, the stores' pending writes gone. */
  async abort(handle: TaskHandle, err: unknown): Promise<void> {
    const open = handle.open;
    handle.open = undefined;
    handle.positions.clear();
    clearTimeout(open?.timer);
    const { log } = this.options;
    this.options.metrics.aborts.inc({ application: this.options.applicationId });
    // A send still in flight must end before its transaction is aborted.
    await open?.sending.catch(() => undefined);
    await open?.transaction
      ?.abort()
      .catch((abortErr: unknown) => log.warn({ err: errorMessage(abortErr) }, 'abort failed'));
    handle.task.abort();
    log.warn(
      { err: errorMessage(err), partition: handle.task.partition },
      'transaction not committed; its records will be processed again',
    );
    if (open?.transaction && !(err instanceof TaskFailedError))
      this.options.onTransactionFailed(handle);
  }

  /**
   * Drops the task's open work quietly, for a task closed without committing (the group took its
   * partition away; the next owner's producer fences the transaction anyway).
   */
  async drop(handle: TaskHandle): Promise<void> {
    const open = handle.open;
    handle.open = undefined;
    handle.positions.clear();
    clearTimeout(open?.timer);
    await open?.sending.catch(() => undefined);
    if (open?.transaction?.abort) await open.transaction.abort().catch(() => undefined);
    handle.task.abort();
  }

  private record(handle: TaskHandle, open: OpenCommit): void {
    const { applicationId: application, metrics } = this.options;
    const { counters } = handle.task;
    for (const [processor, count] of Object.entries(counters.forwarded)) {
      const delta = count - (handle.forwardedSeen[processor] ?? 0);
      if (delta > 0) metrics.recordsForwarded.inc({ application, processor }, delta);
      handle.forwardedSeen[processor] = count;
    }
    for (const [reason, count] of Object.entries(counters.deadLetteredByReason)) {
      const dead = count - (handle.deadLetteredSeen[reason] ?? 0);
      if (dead > 0) metrics.deadLettered.inc({ processor: application, reason }, dead);
      handle.deadLetteredSeen[reason] = count;
    }
    const now = Date.now();
    for (const [topic, times] of open.outputTimes)
      for (const time of times)
        metrics.freshnessSeconds.observe({ application, topic }, Math.max(0, now - time) / 1000);
  }
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
