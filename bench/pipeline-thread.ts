// The platform's pipeline in a worker thread of this process, for the api-lookup benchmark: the
// two stream applications exactly-once, the Redis state sink, and a paced fleet feeding them
// (bench/pipeline-worker.ts). In production `continuum api`, `continuum streams` and the sink
// are processes of their own; in one event loop, every lookup would wait behind the pipeline's
// transactions, and the benchmark would measure the loop, not the API. A thread of its own
// leaves them competing where they do in production: for the machine's cores.
import { Worker } from 'node:worker_threads';
import type { Config } from '../core/config.ts';
import type { StreamTopics } from '../streams/topologies.ts';
import { PipelineBenchError } from './pipeline-kafka.ts';
import type { PipelineClient } from './pipeline-options.ts';
import type { SchemaIds } from './pipeline-run.ts';

export interface PipelineWorkerData {
  config: Config;
  client: PipelineClient;
  /** Application id prefix: `<prefix>-telemetry-clean`, `<prefix>-shipment-state`. */
  prefix: string;
  topics: StreamTopics;
  ids: SchemaIds;
  graceMs: number;
  /** Where the Redis sink writes (the API reads the same namespace). */
  redisKeyNamespace: string;
  sinkGroupId: string;
  /** Vehicles of the freshness fleet (`freshnessReading`), each with a shipment in transit. */
  vehicles: number;
  /** Vehicles 0 … reserved − 1 get no fleet readings (`fleetVehicle`). */
  reserved: number;
  /** Origin of the readings' positions (`freshnessReading`), shared with the main thread's. */
  origin: number;
}

export interface FeedResult {
  sent: number;
  seconds: number;
}

export type PipelineWorkerRequest =
  /** Starts the paced fleet (not reserved vehicles), until stop-feed. */
  | { type: 'feed'; id: number; rate: number }
  | { type: 'stop-feed'; id: number }
  /** What the applications and the sink counted, as a line for the notes. */
  | { type: 'counts'; id: number }
  | { type: 'stop'; id: number };

export type PipelineWorkerReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; result?: unknown }
  | { type: 'failed'; id: number; message: string }
  /** The pipeline or the sink stopped on an error it cannot get past. */
  | { type: 'fatal'; message: string };

type Request = PipelineWorkerRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

const STOP_TIMEOUT_MS = 60_000;

export class PipelineThread {
  /** Aborted with the error when the pipeline fails, or the thread ends unasked. */
  readonly failed: AbortSignal;
  private readonly worker: Worker;
  private readonly failure = new AbortController();
  private readonly pending = new Map<
    number,
    {
      type: PipelineWorkerRequest['type'];
      resolve: (result: unknown) => void;
      reject: (error: Error) => void;
    }
  >();
  private nextId = 1;
  private stopped: Promise<string> | undefined;
  private exited = false;

  private constructor(worker: Worker) {
    this.worker = worker;
    this.failed = this.failure.signal;
    worker.on('message', (reply: PipelineWorkerReply) => this.onReply(reply));
    worker.on('error', (err: Error) => this.fail(`the pipeline thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(
        this.stopped === undefined
          ? `the pipeline thread exited (code ${code})`
          : 'the pipeline thread has stopped',
      );
    });
  }

  /** Starts the thread; returns once the applications and the sink run. */
  static async start(data: PipelineWorkerData, signal: AbortSignal): Promise<PipelineThread> {
    const worker = new Worker(new URL('./pipeline-worker.ts', import.meta.url), {
      workerData: data,
    });
    const thread = new PipelineThread(worker);
    try {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (reply: PipelineWorkerReply): void => {
          if (reply.type === 'ready') done(resolve);
        };
        const onFailed = (): void => done(() => reject(thread.failed.reason as Error));
        const onAbort = (): void => done(() => reject(signal.reason as Error));
        const done = (then: () => void): void => {
          worker.off('message', onMessage);
          thread.failed.removeEventListener('abort', onFailed);
          signal.removeEventListener('abort', onAbort);
          then();
        };
        worker.on('message', onMessage);
        thread.failed.addEventListener('abort', onFailed);
        signal.addEventListener('abort', onAbort);
      });
    } catch (err) {
      await thread.stop().catch(() => undefined);
      throw err;
    }
    return thread;
  }

  startFeed(rate: number): Promise<void> {
    return this.call({ type: 'feed', rate }).then(() => undefined);
  }

  async stopFeed(): Promise<FeedResult> {
    return (await this.call({ type: 'stop-feed' })) as FeedResult;
  }

  async counts(): Promise<string> {
    return String(await this.call({ type: 'counts' }));
  }

  /** Stops the applications, the sink and the feed; their counts. Safe to call again. */
  stop(): Promise<string> {
    this.stopped ??= (async () => {
      if (this.exited) return 'the pipeline thread had ended';
      // A thread that does not stop in time is ended; its groups then outlive their session.
      const timer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
      try {
        return String(await this.call({ type: 'stop' }));
      } finally {
        clearTimeout(timer);
        await this.worker.terminate();
      }
    })();
    return this.stopped;
  }

  private call(request: Request): Promise<unknown> {
    if (this.failed.aborted && request.type !== 'stop')
      return Promise.reject(this.failed.reason as Error);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { type: request.type, resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private onReply(reply: PipelineWorkerReply): void {
    if (reply.type === 'ready') return;
    if (reply.type === 'fatal') {
      this.fail(reply.message);
      return;
    }
    const waiting = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.type === 'done') waiting?.resolve(reply.result);
    else waiting?.reject(new PipelineBenchError(`pipeline thread: ${reply.message}`));
  }

  /**
   * Fails the run and what waits on the thread; a stop still waits for its answer (the
   * applications leave their groups then, so the groups can be deleted) unless the thread ended.
   */
  private fail(message: string): void {
    const error = new PipelineBenchError(message);
    if (!this.failure.signal.aborted) this.failure.abort(error);
    for (const [id, waiting] of this.pending) {
      if (waiting.type === 'stop' && !this.exited) continue;
      this.pending.delete(id);
      waiting.reject(error);
    }
  }
}
