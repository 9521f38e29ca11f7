// Runs one Sink over one topic: consume, decode (undecodable → DLQ with the reason, stage
// `decode`), add per record (a record the sink refuses with SinkRecordError → DLQ, stage `sink`;
// any other exception of the sink's own stops the runner: a bug is not a bad record), flush
// every `flushRecords` records, `flushBytes` bytes of record values or `flushMs` after the
// oldest record held, whichever comes first, and at the end of each fetched batch (the
// checkpoint), and commit offsets only after the flush. The group is heartbeated while a flush
// runs, so a slow store does not cost the membership; and what a Kafka group does (a lost
// membership, a rebalance, a coordinator move) restarts the consumer from the committed
// offsets instead of stopping the sink. A failed flush is retried with backoff while the error
// is retriable; otherwise the runner stops without committing, so the batch is read again by
// whoever runs next (and the sink drops what the batch added). What a sink holds unflushed is
// continuum_sink_held_records / _bytes.
import { deadLetterCounter, registeredOnce } from '../../core/metrics.ts';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { deadLetter, deadLetterReason } from '../../core/dead-letter.ts';
import { ContinuumError, DecodeError, SinkWriteError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Readiness } from '../../core/metrics-server.ts';
import { dlqTopic } from '../../core/topics.ts';
import { disconnectForGood } from '../../core/consumer-stop.ts';
import { Backoff, pause } from '../../core/backoff.ts';
import { FlushBound } from './flush-bound.ts';
import { SinkRecordError, type Sink } from './sink.ts';

export interface SinkRunnerOptions<T> {
  kafka: Kafka;
  topic: string;
  groupId: string;
  sink: Sink<T>;
  /** Turns a record's bytes into an event; throws (any error) when it cannot. */
  decode: (value: Buffer) => Promise<T>;
  log: Logger;
  metricsRegistry?: Registry;
  /** Pause before the first retry of a failed flush; doubles up to 30 s. */
  retryBackoffMs?: number;
  /** Called when the runner stops for good (a non-retriable failure), e.g. to end the process. */
  onFatal?: (error: Error) => void;
  /** Retries of a retriable flush failure before the runner gives up. */
  maxFlushRetries?: number;
  /** Records added before a flush within a batch (a batch may hold thousands). */
  flushRecords?: number;
  /**
   * Bytes of record values added before a flush within a batch: bounds what a flush holds (and
   * how long it takes) when records are large, whatever `flushRecords` allows.
   */
  flushBytes?: number;
  /** Age of the oldest record added before a flush within a batch (a slow decode of a big batch). */
  flushMs?: number;
  /** How often the group is heartbeated while a flush runs. */
  heartbeatIntervalMs?: number;
  /** How long the group waits for a silent member (kafkajs's default, 30 s, when unset). */
  sessionTimeoutMs?: number;
}

export const SINK_RUNNER_DEFAULTS = {
  flushRecords: 1_000,
  flushBytes: 4 * 1024 * 1024,
  flushMs: 5_000,
  heartbeatIntervalMs: 3_000,
};

/**
 * A batch that failed for a reason worth another try (the group moved on, the store or the
 * broker unreachable). Retriable and without a cause chain: kafkajs judges by the deepest cause.
 */
class SinkBatchFailedError extends ContinuumError {
  override readonly code = 'SINK_BATCH_FAILED';

  constructor(topic: string, partition: number, error: unknown) {
    super(`batch of ${topic}-${partition} failed: ${errorMessage(error)}`, {
      retriable: true,
      context: { topic, partition },
    });
  }
}

/** An error the runner stops on: the sink's own non-retriable write failure. */
function isFatal(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause)
    if (e instanceof SinkWriteError && !e.retriable) return true;
  return false;
}

export class SinkRunner<T> {
  private readonly options: SinkRunnerOptions<T>;
  private readonly log: Logger;
  private consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly recordsIn: Counter;
  private readonly written: Counter;
  private readonly deadLettered: Counter;
  private readonly flushSeconds: Histogram;
  private readonly restarts: Counter;
  private readonly flushRetries: Counter;
  /** In the group: set when the consumer joins, cleared by a crash until it joins again. */
  private consuming = false;
  /** Since when flushes fail and are retried (the store unreachable); undefined: they pass. */
  private flushFailingSince: number | undefined;
  private lastFlushError: string | undefined;
  /** Records and value bytes added to the sink and not yet flushed (what a blocked store holds). */
  private readonly heldRecords: Gauge;
  private readonly heldBytes: Gauge;
  private failure: Error | undefined;
  private stopping = false;
  /** The sink's own error that stopped a batch for good (a bug, a write that cannot succeed). */
  private fatalError: Error | undefined;
  /**
   * Waits between consumer replacements: kept across them (a new consumer that joins and fails
   * again waits longer), reset once a batch commits.
   */
  private readonly replaceBackoff: Backoff;

  constructor(options: SinkRunnerOptions<T>) {
    this.options = options;
    this.log = options.log.child({
      component: `sink.${options.sink.name}`,
      topic: options.topic,
      groupId: options.groupId,
    });
    this.replaceBackoff = new Backoff({ initialMs: options.retryBackoffMs ?? 200, maxMs: 30_000 });
    this.consumer = this.newConsumer();
    this.dlqProducer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    const registry = options.metricsRegistry ?? defaultRegistry;
    const registers = [registry];
    const labelNames = ['sink'];
    this.recordsIn = registeredOnce(
      registry,
      'continuum_sink_records_in_total',
      () =>
        new Counter({
          name: 'continuum_sink_records_in_total',
          help: 'Records read by a sink',
          labelNames,
          registers,
        }),
    );
    this.written = registeredOnce(
      registry,
      'continuum_sink_records_written_total',
      () =>
        new Counter({
          name: 'continuum_sink_records_written_total',
          help: 'Records written by a sink',
          labelNames,
          registers,
        }),
    );
    this.deadLettered = deadLetterCounter(registry);
    this.restarts = registeredOnce(
      registry,
      'continuum_sink_restarts_total',
      () =>
        new Counter({
          name: 'continuum_sink_restarts_total',
          help: 'Times a sink consumer rejoined its group from the committed offsets',
          labelNames,
          registers,
        }),
    );
    this.flushRetries = registeredOnce(
      registry,
      'continuum_sink_flush_retries_total',
      () =>
        new Counter({
          name: 'continuum_sink_flush_retries_total',
          help: 'Failed sink flushes retried with backoff (the store unreachable or refusing for now)',
          labelNames,
          registers,
        }),
    );
    // At 0 from the start: a rate of retries is then 0 for a sink that never retried, not absent.
    this.flushRetries.inc({ sink: options.sink.name }, 0);
    this.heldRecords = registeredOnce(
      registry,
      'continuum_sink_held_records',
      () =>
        new Gauge({
          name: 'continuum_sink_held_records',
          help: 'Records added to a sink and not yet flushed (bounded by its flush bound)',
          labelNames,
          registers,
        }),
    );
    this.heldBytes = registeredOnce(
      registry,
      'continuum_sink_held_bytes',
      () =>
        new Gauge({
          name: 'continuum_sink_held_bytes',
          help: 'Record value bytes added to a sink and not yet flushed',
          labelNames,
          registers,
        }),
    );
    this.flushSeconds = registeredOnce(
      registry,
      'continuum_sink_flush_seconds',
      () =>
        new Histogram({
          name: 'continuum_sink_flush_seconds',
          help: 'Duration of one sink flush',
          labelNames,
          registers,
        }),
    );
  }

  private newConsumer(): Consumer {
    return this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      ...(this.options.sessionTimeoutMs === undefined
        ? {}
        : {
            sessionTimeout: this.options.sessionTimeoutMs,
            heartbeatInterval: Math.floor(this.options.sessionTimeoutMs / 5),
          }),
      // kafkajs stops for good on errors it calls non-retriable, among them a membership the
      // coordinator no longer knows (a flush outlasted the session): rejoin instead, from the
      // committed offsets (the sinks are idempotent). Only the sink's own fatal errors stop it.
      // kafkajs restarts only when the error's deepest cause is retriable, hence the rethrow as
      // SinkBatchFailedError in processBatch; no retries in place, which would go on from
      // offsets that were resolved but not committed.
      retry: { retries: 0, restartOnFailure: (error) => Promise.resolve(!isFatal(error)) },
    });
  }

  /** Set when the runner stopped on an error it could not get past. */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Whether the sink keeps its store up to date now (/ready): its consumer runs (not rejoining or
   * being replaced), its flushes pass (not retrying an unreachable store), and it has not failed.
   */
  readiness(): Readiness {
    const detail = { sink: this.options.sink.name, topic: this.options.topic };
    if (this.failure) return { ready: false, detail: { ...detail, failed: this.failure.message } };
    if (this.stopping) return { ready: false, detail: { ...detail, waitingFor: 'stopped' } };
    if (this.flushFailingSince !== undefined)
      return {
        ready: false,
        detail: {
          ...detail,
          waitingFor: 'store',
          failingForMs: Date.now() - this.flushFailingSince,
          lastError: this.lastFlushError,
        },
      };
    if (!this.consuming) return { ready: false, detail: { ...detail, waitingFor: 'consumer' } };
    return { ready: true, detail };
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.runConsumer(this.consumer);
    this.log.info('sink running');
  }

  private async runConsumer(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // A consumer replaced or stopped already may still report (disconnectForGood).
      if (this.stopping || consumer !== this.consumer) return;
      if (payload.restart) {
        this.consuming = false;
        this.restarts.inc({ sink: this.options.sink.name });
        this.log.warn(
          { err: payload.error.message },
          'sink consumer restarting from the committed offsets',
        );
        return;
      }
      if (this.fatalError === undefined && !isFatal(payload.error)) {
        // kafkajs gives up for good on some group errors, e.g. "Failed to find group
        // coordinator" while the whole cluster restarts (it calls them non-retriable): start a
        // new consumer from the committed offsets, with backoff, rather than stop the sink.
        this.restarts.inc({ sink: this.options.sink.name });
        this.log.warn(
          { err: payload.error.message },
          'sink consumer stopped on a group error; starting a new one from the committed offsets',
        );
        this.consuming = false;
        void this.replaceConsumer(consumer);
        return;
      }
      this.failure = payload.error;
      this.log.error({ err: payload.error.message }, 'sink consumer stopped');
      this.options.onFatal?.(payload.error);
    });
    // Joined (first, or again after kafkajs' restart or a replacement): consuming from here.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (consumer === this.consumer && !this.stopping) this.consuming = true;
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        try {
          await this.processBatch(payload);
        } catch (err) {
          // The batch is read again from the committed offsets: what it added goes.
          this.options.sink.discard?.();
          this.heldRecords.set({ sink: this.options.sink.name }, 0);
          this.heldBytes.set({ sink: this.options.sink.name }, 0);
          if (isFatal(err)) {
            // kafkajs re-wraps it without its cause: kept here for the crash handler.
            this.fatalError = err as Error;
            throw err;
          }
          throw new SinkBatchFailedError(payload.batch.topic, payload.batch.partition, err);
        }
      },
    });
  }

  /** A new consumer in place of one kafkajs stopped, retried with backoff until it runs. */
  private async replaceConsumer(stopped: Consumer): Promise<void> {
    await disconnectForGood(stopped).catch(() => undefined);
    while (!this.stopping) {
      const backoffMs = this.replaceBackoff.next();
      await pause(backoffMs);
      if (this.stopping) return;
      const consumer = this.newConsumer();
      this.consumer = consumer;
      try {
        await this.runConsumer(consumer);
        this.log.info('sink consumer running again');
        return;
      } catch (err) {
        this.log.warn({ err: errorMessage(err), backoffMs }, 'sink consumer restart failed');
        await disconnectForGood(consumer).catch(() => undefined);
      }
    }
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const sinkLabel = { sink: this.options.sink.name };
    const letters = [];
    const bound = new FlushBound({
      records: this.options.flushRecords ?? SINK_RUNNER_DEFAULTS.flushRecords,
      bytes: this.options.flushBytes ?? SINK_RUNNER_DEFAULTS.flushBytes,
      ms: this.options.flushMs ?? SINK_RUNNER_DEFAULTS.flushMs,
    });
    let written = 0;
    for (const message of batch.messages) {
      if (bound.due) {
        written += (await this.flushWithRetry(() => payload.heartbeat())).written;
        bound.reset();
        this.showHeld(bound);
        if (!payload.isRunning() || payload.isStale()) return;
      }
      bound.add(message.value?.length ?? 0);
      this.showHeld(bound);
      this.recordsIn.inc(sinkLabel);
      const source = {
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        timestamp: Number(message.timestamp),
        key: message.key,
        value: message.value,
        headers: message.headers,
      };
      const processor = `sink.${this.options.sink.name}`;
      let value: T;
      try {
        if (!message.value) throw new DecodeError('record has no value');
        value = await this.options.decode(message.value);
      } catch (err) {
        const cause =
          err instanceof DecodeError ? err : new DecodeError(errorMessage(err), { cause: err });
        letters.push(deadLetter(source, { error: cause, stage: 'decode', processor }));
        continue;
      }
      try {
        this.options.sink.add({
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value,
          timestamp: Number(message.timestamp),
        });
      } catch (err) {
        if (err instanceof SinkRecordError) {
          letters.push(deadLetter(source, { error: err, stage: 'sink', processor }));
          continue;
        }
        // A bug in the sink, not a bad record: stop (nothing committed) rather than hide it.
        throw new SinkWriteError(
          `sink ${this.options.sink.name} failed on ${batch.topic}-${batch.partition}@${message.offset}: ${errorMessage(err)}`,
          { cause: err, retriable: false, context: { topic: batch.topic, offset: message.offset } },
        );
      }
    }
    // Dead letters are durable before the offsets that skip them are committed.
    if (letters.length > 0) {
      await this.dlqProducer.send({ topic: dlqTopic(batch.topic), acks: -1, messages: letters });
      for (const letter of letters)
        this.deadLettered.inc({
          processor: `sink.${this.options.sink.name}`,
          reason: deadLetterReason(letter),
        });
      this.log.warn(
        { partition: batch.partition, count: letters.length },
        'records sent to the dead-letter topic',
      );
    }
    written += (await this.flushWithRetry(() => payload.heartbeat())).written;
    bound.reset();
    this.showHeld(bound);
    this.written.inc(sinkLabel, written);
    const last = batch.lastOffset();
    payload.resolveOffset(last);
    await this.consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
    ]);
    await payload.heartbeat();
    this.replaceBackoff.reset();
    this.log.debug(
      { partition: batch.partition, lastOffset: last, written, deadLettered: letters.length },
      'checkpoint committed',
    );
  }

  private showHeld(bound: FlushBound): void {
    const label = { sink: this.options.sink.name };
    this.heldRecords.set(label, bound.heldRecords);
    this.heldBytes.set(label, bound.heldBytes);
  }

  private async flushWithRetry(heartbeat: () => Promise<void>): Promise<{ written: number }> {
    const backoff = new Backoff({ initialMs: this.options.retryBackoffMs ?? 200, maxMs: 30_000 });
    const maxRetries = this.options.maxFlushRetries ?? 20;
    for (let attempt = 0; ; attempt++) {
      const stop = this.flushSeconds.startTimer({ sink: this.options.sink.name });
      // The flush may take longer than the group's session: keep the membership meanwhile.
      const beating = setInterval(
        () => void heartbeat().catch(() => undefined),
        this.options.heartbeatIntervalMs ?? SINK_RUNNER_DEFAULTS.heartbeatIntervalMs,
      );
      try {
        const result = await this.options.sink.flush();
        stop();
        this.flushFailingSince = undefined;
        this.lastFlushError = undefined;
        return result;
      } catch (err) {
        stop();
        const retriable = err instanceof SinkWriteError && err.retriable;
        if (retriable) {
          this.flushFailingSince ??= Date.now();
          this.lastFlushError = errorMessage(err);
        }
        if (!retriable || attempt >= maxRetries) throw err;
        this.flushRetries.inc({ sink: this.options.sink.name });
        const backoffMs = backoff.next();
        this.log.warn(
          { err: errorMessage(err), attempt, backoffMs },
          'sink flush failed; retrying',
        );
        await pause(backoffMs);
        await heartbeat();
      } finally {
        clearInterval(beating);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await disconnectForGood(this.consumer);
    await this.dlqProducer.disconnect();
    await this.options.sink.close();
    this.log.info('sink stopped');
  }
}
