// The platform's stream applications on worker threads of their own (Kafka Streams runs its tasks
// on stream threads): `continuum streams` with CONTINUUM_STREAMS_THREADS=per-application. On one
// event loop the cleaner's commit waits behind the join's work and the pair uses one core; a
// thread each lets them use two (bench/README.md, "pipeline", measures both ways).
//
// The worker (application-thread-worker.ts) builds an application from plain data (the
// configuration, topic names, schema ids) with the same composition root as the main thread
// (platform-streams.ts), starts and stops it on request, and serves its metrics and readiness.
// A thread outlives its application until closed, so a benchmark can run the next one warm.
import { Worker } from 'node:worker_threads';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../core/config.ts';
import { ContinuumError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Readiness } from '../core/metrics-server.ts';
import type { CleanTelemetryOptions } from './clean/clean-telemetry.ts';
import type { PlatformSchemaIds, StreamApp } from './platform-streams.ts';
import type { StreamsClientKind } from './runtime/kafka-port.ts';
import type { ProcessingGuarantee } from './runtime/streams-application.ts';
import type { StreamTopics } from './topologies.ts';

/** Everything a worker needs to build its application: plain data (structured-cloned). */
export interface ApplicationThreadSpec {
  config: Config;
  app: StreamApp;
  /** Application ids are `<prefix>-<app>`. */
  prefix: string;
  topics: StreamTopics;
  schemaIds: PlatformSchemaIds;
  guarantee: ProcessingGuarantee;
  client: StreamsClientKind;
  /** Overrides of the cleaner's options (a benchmark's reorder grace). */
  clean?: Pick<Partial<CleanTelemetryOptions>, 'graceMs'>;
  /** The worker's log level (its lines go to the same stdout, tagged `thread: <app>`). */
  logLevel: Config['logLevel'];
}

export type Metrics = MetricObjectWithValues<MetricValue<string>>[];

export type ThreadRequest =
  | { type: 'start'; id: number; spec: ApplicationThreadSpec }
  | { type: 'metrics'; id: number }
  | { type: 'readiness'; id: number }
  | { type: 'stop'; id: number }
  | { type: 'close'; id: number };

export type ThreadReply =
  | { type: 'reply'; id: number; value: Metrics | Readiness | null; error?: undefined }
  | { type: 'reply'; id: number; value?: undefined; error: string };

export type ThreadMessage = { type: 'online' } | { type: 'fatal'; message: string } | ThreadReply;

/** A stream application's thread failed to start it, stopped on an error, or exited unasked. */
export class ApplicationThreadError extends ContinuumError {
  override readonly code = 'STREAMS_APPLICATION_THREAD';
}

const CLOSE_TIMEOUT_MS = 60_000;

export class StreamsApplicationThread {
  private readonly worker: Worker;
  private readonly log: Logger;
  private readonly pending = new Map<
    number,
    { resolve: (reply: ThreadReply) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private exited: Error | undefined;
  private closing = false;
  /** The application it runs (its name, for errors and readiness). */
  private app: StreamApp | undefined;

  private constructor(worker: Worker, log: Logger) {
    this.worker = worker;
    this.log = log;
  }

  /**
   * A worker thread, once it is up. `onFatal` hears of an error its application stops on, or of
   * the thread exiting unasked.
   */
  static open(options: {
    log: Logger;
    onFatal: (error: Error) => void;
  }): Promise<StreamsApplicationThread> {
    const worker = new Worker(new URL('./application-thread-worker.ts', import.meta.url));
    const thread = new StreamsApplicationThread(worker, options.log);
    return new Promise((resolve, reject) => {
      let online = false;
      const fail = (error: Error): void => {
        if (!online) {
          online = true;
          reject(error);
        } else if (!thread.closing) options.onFatal(error);
      };
      worker.on('message', (message: ThreadMessage) => {
        switch (message.type) {
          case 'online':
            online = true;
            resolve(thread);
            return;
          case 'fatal':
            fail(thread.error(`stopped: ${message.message}`));
            return;
          case 'reply': {
            const waiting = thread.pending.get(message.id);
            thread.pending.delete(message.id);
            waiting?.resolve(message);
            return;
          }
        }
      });
      worker.on('error', (err: Error) => fail(thread.error(`thread failed: ${err.message}`, err)));
      worker.on('exit', (code) => {
        const error = thread.error(`thread exited (code ${code})`);
        thread.exited = error;
        for (const waiting of thread.pending.values()) waiting.reject(error);
        thread.pending.clear();
        fail(error);
      });
    });
  }

  /** A thread that runs one application, once it has started it (`continuum streams`). */
  static async start(
    spec: ApplicationThreadSpec,
    options: { log: Logger; onFatal: (error: Error) => void },
  ): Promise<StreamsApplicationThread> {
    const thread = await StreamsApplicationThread.open(options);
    try {
      await thread.startApplication(spec);
    } catch (err) {
      await thread.close();
      throw err;
    }
    return thread;
  }

  private error(message: string, cause?: unknown): ApplicationThreadError {
    const app = this.app ?? 'stream application';
    return new ApplicationThreadError(`${app}: ${message}`, { cause, context: { app } });
  }

  private async request(
    request: Omit<ThreadRequest, 'id'> & { spec?: ApplicationThreadSpec },
  ): Promise<ThreadReply['value']> {
    if (this.exited) throw this.exited;
    const id = this.nextId++;
    const reply = new Promise<ThreadReply>((resolve, reject) =>
      this.pending.set(id, { resolve, reject }),
    );
    this.worker.postMessage({ ...request, id });
    const answer = await reply;
    if (answer.error !== undefined)
      throw this.error(`${request.type} failed: ${answer.error}`, undefined);
    return answer.value;
  }

  /** Builds and starts the application (joined its group, tasks created) on this thread. */
  async startApplication(spec: ApplicationThreadSpec): Promise<void> {
    this.app = spec.app;
    await this.request({ type: 'start', spec });
    this.log.info({ thread: spec.app }, 'stream application thread started');
  }

  /** Stops the application (its open work committed); the thread stays for another. */
  async stopApplication(): Promise<void> {
    await this.request({ type: 'stop' });
  }

  /** The application's Prometheus metrics (a registry of its own), for aggregation. */
  async metrics(): Promise<Metrics> {
    return (await this.request({ type: 'metrics' })) as Metrics;
  }

  /** The application's readiness (StreamsApplication.readiness); not ready once the thread exited. */
  async readiness(): Promise<Readiness> {
    if (this.exited)
      return { ready: false, detail: { thread: this.app, failed: this.exited.message } };
    return (await this.request({ type: 'readiness' })) as Readiness;
  }

  /** Stops the application and ends the thread. */
  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    const gone = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    });
    // A failed request means the worker is already gone: nothing to stop.
    await Promise.race([this.request({ type: 'close' }).catch(() => null), timedOut]);
    clearTimeout(timer);
    await this.worker.terminate();
    await gone;
  }

  /** `continuum streams`' stop: the application and its thread. */
  stop(): Promise<void> {
    return this.close();
  }
}
