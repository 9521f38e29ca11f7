// Replays running in this process (started through the API): each a job with an id, status and
// progress, cancellable, kept for a while after it ends. The work itself is done by runners
// (offset-reset, rebuild-view, dead-letter-redrive), passed in so tests can fake them.
import { randomUUID } from 'node:crypto';
import { ContinuumError, errorMessage } from '../core/errors.ts';
import type { RedriveReport, RedriveRequest } from './dead-letter-redrive.ts';
import type { OffsetResetReport, OffsetResetRequest } from './offset-reset.ts';
import type { RebuildViewReport, RebuildViewRequest } from './rebuild-view.ts';
import { progressOf, type ReplayProgress } from './replay-progress.ts';

export type ReplayRequest =
  | ({ kind: 'reset-offsets'; execute: boolean } & OffsetResetRequest)
  | ({ kind: 'rebuild-view' } & RebuildViewRequest)
  | ({ kind: 'redrive-dead-letters'; execute: boolean } & RedriveRequest);

export type ReplayKind = ReplayRequest['kind'];
export type ReplayResult = OffsetResetReport | RebuildViewReport | RedriveReport;
export type ReplayStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface ReplayJob {
  id: string;
  kind: ReplayKind;
  request: ReplayRequest;
  status: ReplayStatus;
  /** Name of the API key that started it. */
  requestedBy: string;
  createdAt: number;
  finishedAt: number | null;
  progress: ReplayProgress;
  result: ReplayResult | null;
  /** The failure's message (no stack), when it failed. */
  error: string | null;
}

export interface ReplayRunContext {
  signal: AbortSignal;
  onProgress: (progress: ReplayProgress) => void;
}

export interface ReplayRunners {
  resetOffsets(
    request: Extract<ReplayRequest, { kind: 'reset-offsets' }>,
    ctx: ReplayRunContext,
  ): Promise<OffsetResetReport>;
  rebuildView(
    request: Extract<ReplayRequest, { kind: 'rebuild-view' }>,
    ctx: ReplayRunContext,
  ): Promise<RebuildViewReport>;
  redriveDeadLetters(
    request: Extract<ReplayRequest, { kind: 'redrive-dead-letters' }>,
    ctx: ReplayRunContext,
  ): Promise<RedriveReport>;
}

/** Another replay of the same target runs: one at a time per group, view, or DLQ. */
export class ReplayConflictError extends ContinuumError {
  override readonly code = 'REPLAY_CONFLICT';
}

/** What a replay works on; two running replays must not share it. */
export function replayTarget(request: ReplayRequest): string {
  switch (request.kind) {
    case 'reset-offsets':
      return `group:${request.group}`;
    case 'rebuild-view':
      return 'view';
    case 'redrive-dead-letters':
      return `dlq:${request.topic}`;
  }
}

export interface ReplayJobsOptions {
  /** Finished jobs kept for GET (oldest dropped first). */
  keepFinished: number;
}

export const REPLAY_JOBS_DEFAULTS: ReplayJobsOptions = { keepFinished: 100 };

export class ReplayJobs {
  private readonly runners: ReplayRunners;
  private readonly options: ReplayJobsOptions;
  private readonly jobs = new Map<string, ReplayJob>();
  private readonly running = new Map<
    string,
    { controller: AbortController; done: Promise<void> }
  >();

  constructor(runners: ReplayRunners, options: Partial<ReplayJobsOptions> = {}) {
    this.runners = runners;
    this.options = { ...REPLAY_JOBS_DEFAULTS, ...options };
  }

  /** Starts a replay; resolves with the job once it runs (it goes on in the background). */
  start(request: ReplayRequest, requestedBy: string): ReplayJob {
    const target = replayTarget(request);
    const clash = [...this.running.keys()]
      .map((id) => this.jobs.get(id))
      .find((job) => job !== undefined && replayTarget(job.request) === target);
    if (clash)
      throw new ReplayConflictError(`replay ${clash.id} is already working on ${target}`, {
        context: { running: clash.id, target },
      });
    const job: ReplayJob = {
      id: randomUUID(),
      kind: request.kind,
      request,
      status: 'running',
      requestedBy,
      createdAt: Date.now(),
      finishedAt: null,
      progress: progressOf(0, 0, 0),
      result: null,
      error: null,
    };
    this.jobs.set(job.id, job);
    const controller = new AbortController();
    const ctx: ReplayRunContext = {
      signal: controller.signal,
      onProgress: (progress) => {
        job.progress = progress;
      },
    };
    const done = this.run(request, ctx)
      .then((result) => {
        job.result = result;
        job.status = controller.signal.aborted ? 'cancelled' : 'succeeded';
      })
      .catch((err: unknown) => {
        job.status = controller.signal.aborted ? 'cancelled' : 'failed';
        job.error = errorMessage(err);
      })
      .finally(() => {
        job.finishedAt = Date.now();
        this.running.delete(job.id);
        this.dropOldFinished();
      });
    this.running.set(job.id, { controller, done });
    return job;
  }

  private run(request: ReplayRequest, ctx: ReplayRunContext): Promise<ReplayResult> {
    switch (request.kind) {
      case 'reset-offsets':
        return this.runners.resetOffsets(request, ctx);
      case 'rebuild-view':
        return this.runners.rebuildView(request, ctx);
      case 'redrive-dead-letters':
        return this.runners.redriveDeadLetters(request, ctx);
    }
  }

  get(id: string): ReplayJob | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): ReplayJob[] {
    return [...this.jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Waits until the job has ended (for tests and for callers that start and wait). */
  async settled(id: string): Promise<ReplayJob | undefined> {
    await this.running.get(id)?.done;
    return this.jobs.get(id);
  }

  /** Cancels a running job (waits until it stopped) or forgets a finished one. */
  async cancel(id: string): Promise<ReplayJob | undefined> {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    const running = this.running.get(id);
    if (running) {
      running.controller.abort(new ContinuumError('replay cancelled'));
      await running.done;
    } else {
      this.jobs.delete(id);
    }
    return job;
  }

  /** Cancels everything still running (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.cancel(id)));
  }

  private dropOldFinished(): void {
    const finished = [...this.jobs.values()]
      .filter((j) => j.status !== 'running')
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const job of finished.slice(0, Math.max(0, finished.length - this.options.keepFinished)))
      this.jobs.delete(job.id);
  }
}
