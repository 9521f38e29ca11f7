// Names where an application stands still. A consumer that hands over no batch (kafkajs fetches
// again only once the last batch's handler returned), a batch waiting on its task or its lock, or
// a task's lock held by one piece of work for seconds all look the same from outside: no fetch,
// no commit, no log line, and the processors' wall clock (InputWallClock) standing still. This
// tracks each batch's stage and, when anything has stood still past a threshold, says which.

/** Where a batch handed over by the consumer is. */
export type BatchStage = 'task' | 'lock' | 'processing';

interface BatchInFlight {
  topic: string;
  partition: number;
  stage: BatchStage;
  since: number;
  stageSince: number;
}

/** A task as the report sees it: its partition, state, and since when its lock is busy. */
export interface TaskView {
  partition: number;
  state: string;
  busySince: number | undefined;
  busyWith: string | undefined;
  openRecords: number | undefined;
}

export interface Stall {
  /** Milliseconds since the consumer's last completed fetch (undefined: none yet). */
  sinceFetchMs: number | undefined;
  batches: { topic: string; partition: number; stage: BatchStage; ms: number; stageMs: number }[];
  busyTasks: { partition: number; state: string; busyWith: string | undefined; ms: number }[];
  tasks: number;
}

export class StallWatch {
  private readonly batches = new Map<number, BatchInFlight>();
  private nextId = 0;
  private lastFetchAt: number | undefined;
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  fetched(): void {
    this.lastFetchAt = this.now();
  }

  /** Milliseconds since the last completed fetch (undefined: none yet). */
  sinceFetchMs(): number | undefined {
    return this.lastFetchAt === undefined ? undefined : this.now() - this.lastFetchAt;
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
  stall(tasks: readonly TaskView[], thresholdMs: number): Stall | undefined {
    const now = this.now();
    const sinceFetchMs = this.sinceFetchMs();
    const batches = [...this.batches.values()]
      .filter((b) => now - b.since > thresholdMs)
      .map((b) => ({
        topic: b.topic,
        partition: b.partition,
        stage: b.stage,
        ms: now - b.since,
        stageMs: now - b.stageSince,
      }));
    const busyTasks = tasks
      .filter((t) => t.busySince !== undefined && now - t.busySince > thresholdMs)
      .map((t) => ({
        partition: t.partition,
        state: t.state,
        busyWith: t.busyWith,
        ms: now - (t.busySince ?? now),
      }));
    const fetchStalled = sinceFetchMs !== undefined && sinceFetchMs > thresholdMs;
    if (!fetchStalled && batches.length === 0 && busyTasks.length === 0) return undefined;
    return { sinceFetchMs, batches, busyTasks, tasks: tasks.length };
  }
}
