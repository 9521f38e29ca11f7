// Names where an application stands still. A consumer that hands over no batch (kafkajs fetches
// again only once the last batch's handler returned), a batch waiting on its task or its lock, or
// a task's lock held by one piece of work for seconds all look the same from outside: no fetch,
// no commit, no log line, and the processors' wall clock (InputWallClock) standing still. This
// tracks each batch's stage and, when anything has stood still past a threshold, says which:
// at debug level every `reportAfterMs` at most, as a warning once it has lasted `warnAfterMs`.
// At debug level it also says every `aliveEveryMs` that it runs, so that a silent log means a
// stopped event loop, not a quiet one.
import type { Logger } from '../../core/logger.ts';

/** Where a batch handed over by the consumer is. */
export type BatchStage = 'task' | 'lock' | 'processing';

interface BatchInFlight {
  topic: string;
  partition: number;
  stage: BatchStage;
  since: number;
  stageSince: number;
}

/** A task as the report sees it: its partition, state, and what holds its lock since when. */
export interface TaskView {
  partition: number;
  state: string;
  busy: { work: string; since: number } | undefined;
}

export interface Stall {
  /** Milliseconds since the consumer's last completed fetch (undefined: none yet). */
  sinceFetchMs: number | undefined;
  batches: { topic: string; partition: number; stage: BatchStage; ms: number; stageMs: number }[];
  busyTasks: { partition: number; state: string; work: string; ms: number }[];
  tasks: number;
}

export interface StallWatchOptions {
  /** Milliseconds since the consumer's last completed fetch (InputWallClock.sinceFetchMs). */
  sinceFetchMs: () => number | undefined;
  /** The tasks created so far. */
  tasks: () => readonly TaskView[];
  log: Logger;
  reportAfterMs: number;
  warnAfterMs: number;
  aliveEveryMs: number;
  now?: () => number;
}

export class StallWatch {
  private readonly options: StallWatchOptions;
  private readonly now: () => number;
  private readonly batches = new Map<number, BatchInFlight>();
  private nextId = 0;
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private lastAliveAt = Number.NEGATIVE_INFINITY;

  constructor(options: StallWatchOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** A batch was handed over; returns its id for `stage` and `done`. */
  begin(topic: string, partition: number): number {
    const id = this.nextId++;
    const now = this.now();
    this.batches.set(id, { topic, partition, stage: 'task', since: now, stageSince: now });
    return id;
  }

  stage(id: number, stage: BatchStage): void {
    const batch = this.batches.get(id);
    if (batch) Object.assign(batch, { stage, stageSince: this.now() });
  }

  done(id: number): void {
    this.batches.delete(id);
  }

  /**
   * What has stood still longer than `thresholdMs` (undefined when nothing has): no fetch for
   * that long, a batch in flight that long, or a task's lock held by one work that long.
   */
  stall(thresholdMs: number): Stall | undefined {
    const now = this.now();
    const sinceFetchMs = this.options.sinceFetchMs();
    const tasks = this.options.tasks();
    const batches = [...this.batches.values()]
      .filter((b) => now - b.since > thresholdMs)
      .map((b) => ({
        topic: b.topic,
        partition: b.partition,
        stage: b.stage,
        ms: now - b.since,
        stageMs: now - b.stageSince,
      }));
    const busyTasks = tasks.flatMap(({ partition, state, busy }) =>
      busy && now - busy.since > thresholdMs
        ? [{ partition, state, work: busy.work, ms: now - busy.since }]
        : [],
    );
    const fetchStalled = sinceFetchMs !== undefined && sinceFetchMs > thresholdMs;
    if (!fetchStalled && batches.length === 0 && busyTasks.length === 0) return undefined;
    return { sinceFetchMs, batches, busyTasks, tasks: tasks.length };
  }

  /** Says what stands still, and (debug) that the application runs; call it on a timer. */
  report(): void {
    const { log, reportAfterMs, warnAfterMs, aliveEveryMs } = this.options;
    const debug = log.isLevelEnabled('debug');
    const now = this.now();
    if (debug && now - this.lastAliveAt >= aliveEveryMs) {
      this.lastAliveAt = now;
      log.debug(
        { sinceFetchMs: this.options.sinceFetchMs(), tasks: this.options.tasks().length },
        'application alive',
      );
    }
    if (now - this.lastReportAt < reportAfterMs) return;
    const stall = this.stall(reportAfterMs);
    if (!stall) return;
    const longest = Math.max(
      stall.sinceFetchMs ?? 0,
      ...stall.batches.map((b) => b.ms),
      ...stall.busyTasks.map((t) => t.ms),
    );
    if (longest >= warnAfterMs && now - this.lastWarnAt >= warnAfterMs) {
      this.lastWarnAt = now;
      this.lastReportAt = now;
      log.warn(stall, 'application stands still: no fetch, or a batch or task lock held');
    } else if (debug) {
      this.lastReportAt = now;
      log.debug(stall, 'application stands still');
    }
  }
}
