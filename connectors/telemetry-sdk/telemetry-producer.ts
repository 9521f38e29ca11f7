// The telemetry producer SDK: Avro in the Confluent wire format (schema registered under the
// topic's value subject), key = vehicle id, batching with linger, an idempotent producer, and a
// bounded buffer that applies back-pressure: `send` awaits while the buffer is full and never
// drops an event silently. A failed batch is retried with backoff, in order, while the failure
// may pass (core/kafka-errors.ts); a record the topic refuses for its size is set aside and
// reported by the next flush(); a refusal no retry changes (authorization, an invalid topic)
// fails the producer, and every waiting and later call rejects with it instead of blocking.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Config } from '../../core/config.ts';
import { Backoff, pause } from '../../core/backoff.ts';
import { ContinuumError, errorMessage } from '../../core/errors.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import { classifyKafkaError, kafkaErrorType } from '../../core/kafka-errors.ts';
import type { Logger } from '../../core/logger.ts';
import { createSchemaRegistry, registerValueSchema } from '../../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
import { wireEncoderFor, type WireEncoder } from '../../schemas/wire-encoder.ts';
import type { TelemetrySink } from './telemetry-sink.ts';
import { TelemetrySdkMetrics } from './telemetry-sdk-metrics.ts';
import { Murmur2Partitioner } from '../../core/murmur2-partitioner.ts';

export interface TelemetryProducerOptions {
  /** Topic to publish to. */
  topic: string;
  /** How long a partly filled batch waits for more events before it is sent. */
  lingerMs: number;
  /** Events per produce request. */
  batchSize: number;
  /** Events held in memory (encoded, not yet acknowledged) before `send` waits. */
  maxBufferedEvents: number;
  /** Pause before the first retry of a failed batch; doubles up to maxRetryBackoffMs. */
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
}

export const TELEMETRY_PRODUCER_DEFAULTS: Omit<TelemetryProducerOptions, 'topic'> = {
  lingerMs: 20,
  batchSize: 1_000,
  maxBufferedEvents: 20_000,
  retryBackoffMs: 100,
  maxRetryBackoffMs: 5_000,
};

/** An event the schema cannot encode (a caller bug): rejected at `send`, never buffered. */
export class TelemetryEncodeError extends ContinuumError {
  override readonly code = 'TELEMETRY_ENCODE_FAILED';
}

/** Kafka refused records for good (too large for the topic): what flush() reports. */
export class TelemetryRecordsRefusedError extends ContinuumError {
  override readonly code = 'TELEMETRY_RECORDS_REFUSED';
  readonly refused: readonly RefusedRecord[];

  constructor(topic: string, refused: readonly RefusedRecord[]) {
    const first = refused[0];
    super(
      `Kafka refused ${refused.length} telemetry record(s) on ${topic} for good` +
        (first
          ? ` (first: key ${first.key}, ${first.bytes} bytes: ${first.reason}); raise the topic's max.message.bytes or send smaller events`
          : ''),
      { context: { topic, refused: refused.length } },
    );
    this.refused = refused;
  }
}

/** The producer cannot write at all until someone changes a setting (authorization, topic). */
export class TelemetryProducerFailedError extends ContinuumError {
  override readonly code = 'TELEMETRY_PRODUCER_FAILED';
}

export interface RefusedRecord {
  key: string;
  bytes: number;
  /** The broker's error type, e.g. MESSAGE_TOO_LARGE. */
  reason: string;
}

/** A record as kafkajs takes it, built once at send() so a batch goes out without copying. */
interface Pending {
  key: string;
  value: Buffer;
  /** Record timestamp: the event time, so stream processors order and window by it; none for sendRaw. */
  timestamp: string | undefined;
}

export interface CreateTelemetryProducerArgs {
  config: Config;
  log: Logger;
  options?: Partial<TelemetryProducerOptions>;
  /** Share clients with the caller; created (and closed on close()) otherwise. */
  kafka?: Kafka;
  registry?: SchemaRegistry;
  metricsRegistry?: Registry;
}

export class TelemetryProducer implements TelemetrySink {
  readonly options: TelemetryProducerOptions;
  readonly schemaId: number;
  private readonly producer: Producer;
  private readonly encoder: WireEncoder<VehicleTelemetry>;
  private readonly log: Logger;
  private readonly metrics: TelemetrySdkMetrics;
  private buffer: Pending[] = [];
  /** Events accepted but not yet acknowledged (buffered + in flight): bounded by maxBufferedEvents. */
  private unacknowledged = 0;
  /** send() calls begun and not yet in the buffer (encoding, or waiting for space): flush() covers them. */
  private accepting = 0;
  private spaceWaiters: (() => void)[] = [];
  /** The waiters' wake-up is scheduled (drain): a new send queues behind them, not ahead. */
  private wakeScheduled = false;
  private idleWaiters: (() => void)[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  /** Records Kafka refused for good since the last flush() reported them. */
  private refused: RefusedRecord[] = [];
  /** Set when Kafka refuses the producer itself: every call rejects with it from then on. */
  private failure: TelemetryProducerFailedError | undefined;

  private constructor(
    producer: Producer,
    encoder: WireEncoder<VehicleTelemetry>,
    options: TelemetryProducerOptions,
    log: Logger,
    metrics: TelemetrySdkMetrics,
  ) {
    this.producer = producer;
    this.encoder = encoder;
    this.schemaId = encoder.schemaId;
    this.options = options;
    this.log = log;
    this.metrics = metrics;
  }

  static async create(args: CreateTelemetryProducerArgs): Promise<TelemetryProducer> {
    const options: TelemetryProducerOptions = {
      ...TELEMETRY_PRODUCER_DEFAULTS,
      topic: args.config.topics.telemetryRaw,
      ...args.options,
    };
    const log = args.log.child({ component: 'telemetry-sdk', topic: options.topic });
    const registry = args.registry ?? createSchemaRegistry(args.config);
    const schemaId = await registerValueSchema(registry, options.topic, 'VehicleTelemetry');
    // The registry's own avsc type for the id, looked up once: the bytes registry.encode() writes.
    const encoder = await wireEncoderFor<VehicleTelemetry>(registry, schemaId);
    const kafka = args.kafka ?? createKafkaClient(args.config, 'telemetry-sdk', args.log);
    // Idempotent: a retried batch is written once; one request in flight keeps per-partition order.
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // kafkajs's default partitioning (murmur2 of the vehicle id, as Java's), without its Long.
      createPartitioner: Murmur2Partitioner,
    });
    await producer.connect();
    log.info({ schemaId, ...options }, 'telemetry producer ready');
    return new TelemetryProducer(
      producer,
      encoder,
      options,
      log,
      new TelemetrySdkMetrics(args.metricsRegistry),
    );
  }

  /** Events accepted and not yet acknowledged by Kafka. */
  get pendingEvents(): number {
    return this.unacknowledged;
  }

  // Encoding and, while the buffer has room, enqueueing are synchronous: a send costs no await
  // of its own (the profile of bench/telemetry-sdk.ts put a third of the SDK's time in the
  // registry client's per-record async encode and its buffers).
  async send(event: VehicleTelemetry): Promise<void> {
    let value: Buffer;
    try {
      value = this.encoder.encode(event);
    } catch (err) {
      this.metrics.rejected.inc();
      throw new TelemetryEncodeError(
        `telemetry event does not match the VehicleTelemetry schema: ${errorMessage(err)}`,
        {
          cause: err,
          context: { eventId: event.eventId, vehicleId: event.vehicleId },
        },
      );
    }
    const waiting = this.enqueue({
      key: event.vehicleId,
      value,
      timestamp: String(event.eventTime),
    });
    if (waiting) await this.awaitSpace(waiting);
  }

  async sendRaw(key: string, value: Buffer): Promise<void> {
    const waiting = this.enqueue({ key, value, timestamp: undefined });
    if (waiting) await this.awaitSpace(waiting);
  }

  /** A send waiting for buffer space is still pending for flush(). */
  private async awaitSpace(waiting: Promise<void>): Promise<void> {
    this.accepting += 1;
    try {
      await waiting;
    } finally {
      this.accepting -= 1;
      this.notifyIdle();
    }
  }

  /** Buffers the record now if there is room (undefined), or returns the wait for room. */
  private enqueue(record: Pending): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.closed)
      throw new ContinuumError('telemetry producer is closed', {
        context: { topic: this.options.topic },
      });
    if (this.unacknowledged >= this.options.maxBufferedEvents || this.wakeScheduled)
      return this.enqueueWhenSpace(record);
    this.accept(record);
    return undefined;
  }

  /** Waits behind the sends already waiting (order per key), then for room. */
  private async enqueueWhenSpace(record: Pending): Promise<void> {
    do {
      this.metrics.backpressureWaits.inc();
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      // A waiter is also woken when the producer fails.
      if (this.failure) throw this.failure;
    } while (this.unacknowledged >= this.options.maxBufferedEvents);
    this.accept(record);
  }

  private accept(record: Pending): void {
    this.unacknowledged += 1;
    this.buffer.push(record);
    this.metrics.buffered.set(this.unacknowledged);
    // A flush waiting: no linger, it wants everything out now.
    if (this.buffer.length >= this.options.batchSize || this.idleWaiters.length > 0) this.kick();
    else this.lingerTimer ??= setTimeout(() => this.kick(), this.options.lingerMs);
  }

  /** Starts the send loop unless it runs; it drains the buffer batch by batch. */
  private kick(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    this.sending ??= this.drain()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.sending = undefined;
        if (this.buffer.length > 0 && !this.failure) this.kick();
        else this.notifyIdle();
      });
  }

  /** Kafka refused the producer for good: wake every waiter, which then rejects with the cause. */
  private fail(err: unknown): void {
    this.failure ??=
      err instanceof TelemetryProducerFailedError
        ? err
        : new TelemetryProducerFailedError(`telemetry producer failed: ${errorMessage(err)}`, {
            cause: err,
            context: { topic: this.options.topic },
          });
    this.log.error(
      { err: errorMessage(err), unacknowledged: this.unacknowledged },
      'telemetry producer failed for good; sends and flushes reject from now on',
    );
    for (const wake of this.spaceWaiters.splice(0, this.spaceWaiters.length)) wake();
    this.notifyIdle();
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.batchSize);
      await this.sendWithRetry(batch);
      this.unacknowledged -= batch.length;
      this.metrics.buffered.set(this.unacknowledged);
      this.metrics.sent.inc(batch.length);
      // Senders waiting for room are woken on the next turn of the event loop, not now: first
      // the loop goes on to the next batch, whose request kafkajs encodes and writes in
      // microtasks. Woken now, their encoding would interleave with that request's, and the
      // broker would wait for both (profile of bench/telemetry-sdk.ts). Sends made meanwhile
      // queue behind them (enqueue), and are woken with them, in order.
      if (this.spaceWaiters.length > 0 && !this.wakeScheduled) {
        this.wakeScheduled = true;
        setImmediate(() => {
          this.wakeScheduled = false;
          for (const wake of this.spaceWaiters.splice(0, this.spaceWaiters.length)) wake();
        });
      }
    }
  }

  /**
   * Sends a batch until Kafka acknowledges it, retrying what may pass. A batch the topic refuses
   * for its size is split in halves (in order), down to the one record that is too large,
   * which is set aside for flush() to report; a refusal of the producer itself throws.
   */
  private async sendWithRetry(batch: Pending[]): Promise<void> {
    const backoff = new Backoff({
      initialMs: this.options.retryBackoffMs,
      maxMs: this.options.maxRetryBackoffMs,
    });
    for (let attempt = 1; ; attempt++) {
      const stop = this.metrics.batchSeconds.startTimer();
      try {
        await this.producer.send({ topic: this.options.topic, acks: -1, messages: batch });
        stop();
        return;
      } catch (err) {
        stop();
        this.metrics.sendErrors.inc();
        const failure = classifyKafkaError(err);
        if (failure === 'refused')
          throw new TelemetryProducerFailedError(
            `Kafka refuses the telemetry producer on ${this.options.topic} (${kafkaErrorType(err)}): ${errorMessage(err)}; no retry changes that — check the topic and the client's authorization`,
            { cause: err, context: { topic: this.options.topic } },
          );
        if (failure === 'too-large') {
          const [only] = batch;
          if (batch.length === 1 && only) {
            this.setAside(only, kafkaErrorType(err) ?? 'MESSAGE_TOO_LARGE');
            return;
          }
          const half = Math.ceil(batch.length / 2);
          await this.sendWithRetry(batch.slice(0, half));
          await this.sendWithRetry(batch.slice(half));
          return;
        }
        const backoffMs = backoff.next();
        this.log.warn(
          { err: errorMessage(err), attempt, events: batch.length, backoffMs },
          'batch send failed; retrying',
        );
        await pause(backoffMs);
      }
    }
  }

  private setAside(record: Pending, reason: string): void {
    const refused = { key: record.key, bytes: record.value.length, reason };
    this.refused.push(refused);
    this.metrics.refusedByKafka.inc({ reason });
    this.log.error(
      { ...refused, topic: this.options.topic },
      'Kafka refused a telemetry record for good; flush() reports it',
    );
  }

  /** Wakes flushes once nothing is pending, or once the producer has failed for good. */
  private notifyIdle(): void {
    if (!this.failure && (this.unacknowledged > 0 || this.accepting > 0)) return;
    for (const wake of this.idleWaiters.splice(0, this.idleWaiters.length)) wake();
  }

  /**
   * Resolves once every event sent before the call is acknowledged (including sends still
   * encoding or waiting for buffer space). Rejects with TelemetryRecordsRefusedError
   * if Kafka refused records for good since the last flush (each reported once), and with
   * TelemetryProducerFailedError once the producer itself is refused.
   */
  async flush(): Promise<void> {
    if ((this.unacknowledged > 0 || this.accepting > 0) && !this.failure) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.kick();
      await idle;
    }
    if (this.failure) throw this.failure;
    if (this.refused.length > 0) {
      const refused = this.refused.splice(0, this.refused.length);
      throw new TelemetryRecordsRefusedError(this.options.topic, refused);
    }
  }

  /** Flushes (and rejects as flush() does, after disconnecting) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.producer.disconnect();
      this.log.info('telemetry producer closed');
    }
  }
}
