// The PostgreSQL → Kafka CDC source: publication + slot (with the initial snapshot when the
// slot is new), then pgoutput streamed through the TransactionPipeline, heartbeats while idle,
// lag metrics, reconnection with backoff, and a graceful stop that flushes and confirms.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, Producer } from 'kafkajs';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import type { Registry } from 'prom-client';
import { Backoff, pause } from '../../../core/backoff.ts';
import { ContinuumError, errorMessage } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import { registerValueSchema } from '../../../schemas/event-schemas.ts';
import type { ShipmentChange } from '../../../schemas/types.ts';
import { wireEncoderFor, type WireEncoder } from '../../../schemas/wire-encoder.ts';
import { CdcDecodeError, CdcKafkaError, CdcPostgresError, CdcTruncateError } from './errors.ts';
import { KafkaChangeWriter, createCdcKafka, createCdcProducer } from './kafka-change-writer.ts';
import { lsnToNumber, numberToLsn } from './lsn.ts';
import { CdcMetrics, type CdcErrorKind } from './metrics.ts';
import { qualifiedTable, type CdcSourceOptions } from './options.ts';
import type { KeyedChange } from './row-conversion.ts';
import {
  checkSourceTable,
  createSlotWithSnapshot,
  dropSlot,
  ensurePublication,
  readSlot,
  snapshotCompleted,
} from './slot-setup.ts';
import { SpilledChanges } from './spilled-changes.ts';
import { TransactionPipeline } from './transaction-pipeline.ts';
import { ensureShipmentsTable } from '../../../schemas/platform-tables.ts';

export interface PostgresCdcSourceDeps {
  log: Logger;
  /** Where the source's metrics are registered (served by the process's /metrics). */
  metricsRegistry: Registry;
}

/** The replication connection's socket; see pauseStream for why it is reached into. */
interface StreamHandle {
  pause?: () => void;
  resume?: () => void;
}

function socketOf(service: LogicalReplicationService): StreamHandle | undefined {
  return (service as unknown as { _connection?: { stream?: StreamHandle } })._connection?.stream;
}

function wrapPostgres(
  cause: unknown,
  message: string,
  context: Record<string, unknown>,
): ContinuumError {
  if (cause instanceof ContinuumError) return cause;
  return new CdcPostgresError(`${message}: ${errorMessage(cause)}`, { cause, context });
}

function errorKind(err: ContinuumError): CdcErrorKind {
  if (err instanceof CdcKafkaError) return 'kafka';
  // A TRUNCATE, like an undecodable row, is a change the ShipmentChange contract cannot carry.
  if (err instanceof CdcDecodeError || err instanceof CdcTruncateError) return 'decode';
  return 'postgres';
}

export class PostgresCdcSource {
  readonly options: CdcSourceOptions;
  private readonly log: Logger;
  private readonly metrics: CdcMetrics;
  private readonly pool: pg.Pool;
  private readonly kafka: Kafka;
  private readonly registry: SchemaRegistry;
  private producer: Producer | undefined;
  private writer: KafkaChangeWriter | undefined;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private streamingStarted = Promise.withResolvers<void>();
  /** True while a replication session streams (false while starting, snapshotting or retrying). */
  private streamingNow = false;
  /** Between sessions; reset once streaming starts again. */
  private readonly backoff: Backoff;

  constructor(options: CdcSourceOptions, deps: PostgresCdcSourceDeps) {
    this.options = options;
    this.log = deps.log.child({ component: 'source.postgres-cdc', slot: options.slot });
    this.metrics = new CdcMetrics(deps.metricsRegistry, options.slot);
    this.pool = new pg.Pool({ connectionString: options.postgresUrl, max: 2 });
    // An idle pooled client that loses its server must not crash the process.
    this.pool.on('error', (err) => this.log.warn({ err }, 'idle PostgreSQL client failed'));
    this.kafka = createCdcKafka(options.producer, this.log);
    this.registry = new SchemaRegistry({
      host: options.schemaRegistryUrl,
      retry: { retries: 5, initialRetryTimeInSecs: 0.2 },
    });
    this.backoff = new Backoff({ initialMs: options.retryInitialMs, maxMs: options.retryMaxMs });
  }

  /**
   * Starts the run loop and resolves once the slot streams (after the initial snapshot, when
   * one was due). Rejects when the source fails for good before that.
   */
  async start(): Promise<void> {
    if (this.loop) throw new Error('PostgresCdcSource already started');
    this.loop = this.run();
    // Failures surface through start() or `done`; a caller that awaits neither must not crash the process.
    this.loop.catch(() => undefined);
    this.lagTimer = setInterval(() => void this.pollLag(), this.options.lagPollIntervalMs);
    await Promise.race([
      this.streamingStarted.promise,
      // Stopped by stop() before streaming: start() simply returns.
      this.loop.then(() => {
        if (!this.stopping) throw new Error('the CDC source ended before it started streaming');
      }),
    ]);
  }

  /** Whether changes stream now: its slot exists, any snapshot is done, the session is up. */
  get streaming(): boolean {
    return this.streamingNow;
  }

  /** Settles when the source stops: resolves after stop(), rejects on a non-retriable failure. */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Stops reading, produces and confirms every transaction already received, then closes. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.loop?.catch(() => undefined);
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        try {
          await this.session();
        } catch (err) {
          if (this.stopping) break;
          const error = wrapPostgres(err, 'replication session failed', {
            slot: this.options.slot,
          });
          this.metrics.error(errorKind(error));
          if (!error.retriable) {
            this.log.error(
              { err: error, context: error.context },
              'CDC source failed; not retrying',
            );
            throw error;
          }
          const retryInMs = this.backoff.next();
          this.log.warn(
            { err: error, context: error.context, retryInMs },
            'CDC session failed; reconnecting from the last confirmed LSN',
          );
          if (error instanceof CdcKafkaError) await this.resetProducer();
          await pause(retryInMs, this.stopController.signal);
        }
      }
    } finally {
      clearInterval(this.lagTimer);
      await this.resetProducer();
      await this.pool.end().catch(() => undefined);
      this.log.info('CDC source stopped');
    }
  }

  private async ensureWriter(): Promise<KafkaChangeWriter> {
    if (this.writer) return this.writer;
    const producer = (this.producer ??= createCdcProducer(this.kafka));
    let encoder: WireEncoder<ShipmentChange>;
    try {
      await producer.connect();
      const schemaId = await registerValueSchema(
        this.registry,
        this.options.topic,
        'ShipmentChange',
      );
      encoder = await wireEncoderFor<ShipmentChange>(this.registry, schemaId);
    } catch (cause) {
      throw new CdcKafkaError(
        `connecting to Kafka or the registry failed: ${errorMessage(cause)}`,
        {
          cause,
          context: { topic: this.options.topic },
        },
      );
    }
    this.writer = new KafkaChangeWriter({
      producer,
      encoder,
      topic: this.options.topic,
      maxBatchRecords: this.options.producer.maxBatchRecords,
    });
    return this.writer;
  }

  private async resetProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.writer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** One connection's worth of work: set up, stream until stopped or failed. */
  private async session(): Promise<void> {
    const writer = await this.ensureWriter();
    const { options } = this;
    let startLsn: string;
    try {
      if (options.createTable && options.table === 'shipments')
        await ensureShipmentsTable(this.pool, options.schema);
      await ensurePublication(this.pool, options);
      await checkSourceTable(this.pool, options);
      let slot = await readSlot(this.pool, options.slot);
      if (
        slot &&
        options.snapshotMode === 'initial' &&
        !(await snapshotCompleted(this.pool, options))
      ) {
        if (slot.activePid !== null) {
          throw new CdcPostgresError(`slot ${options.slot} is in use by PID ${slot.activePid}`, {
            context: { slot: options.slot, activePid: slot.activePid },
          });
        }
        this.log.warn(
          { publication: options.publication },
          'slot exists but its initial snapshot never completed (crash during the snapshot?): dropping it and snapshotting again',
        );
        await dropSlot(this.pool, options.slot);
        slot = undefined;
      }
      if (!slot) {
        if (options.snapshotMode === 'initial') {
          await createSlotWithSnapshot(
            this.pool,
            options,
            (changes) => this.writeSnapshot(writer, changes),
            this.log,
          );
        } else {
          await this.pool.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [
            options.slot,
          ]);
        }
        slot = await readSlot(this.pool, options.slot);
        if (!slot) throw new CdcPostgresError(`slot ${options.slot} vanished after creation`);
      }
      startLsn = slot.confirmedFlushLsn;
    } catch (cause) {
      throw wrapPostgres(cause, 'preparing publication and slot failed', {
        slot: options.slot,
        publication: options.publication,
      });
    }
    if (this.stopping) return;
    await this.stream(writer, startLsn);
  }

  private async writeSnapshot(writer: KafkaChangeWriter, changes: KeyedChange[]): Promise<void> {
    // Stopping mid-snapshot leaves it unmarked, so the next start redoes it from a new slot.
    this.stopController.signal.throwIfAborted();
    await writer.write(changes);
    this.metrics.changeProduced('SNAPSHOT', changes.length);
  }

  private async stream(writer: KafkaChangeWriter, startLsn: string): Promise<void> {
    const { options, log, metrics } = this;
    const service = new LogicalReplicationService(
      { connectionString: options.postgresUrl },
      // Never let the library confirm on its own: only the pipeline knows what Kafka has.
      { acknowledge: { auto: false, timeoutSeconds: 0 } },
    );
    // The library reports `lsn + 1` as flushed; confirm exactly `lsn`, the end of what Kafka has,
    // so a commit record starting right at that position is never skipped on restart.
    const confirmExactly = async (lsn: string, ping = false): Promise<void> => {
      const position = lsnToNumber(lsn);
      if (position === 0) return;
      if (!(await service.acknowledge(numberToLsn(position - 1), ping))) {
        throw new CdcPostgresError('replication connection closed before confirming', {
          context: { lsn },
        });
      }
    };
    const leftovers = await SpilledChanges.removeLeftovers(options.spillDirectory, options.slot);
    if (leftovers > 0) log.info({ leftovers }, 'deleted spill files a stopped source left behind');
    const ended = Promise.withResolvers<void>();
    const pipeline = new TransactionPipeline({
      table: qualifiedTable(options),
      slot: options.slot,
      writer,
      acknowledger: { acknowledge: (lsn) => confirmExactly(lsn) },
      startLsn,
      maxBatchChanges: options.producer.maxBatchRecords,
      spill: { afterChanges: options.spillAfterChanges, directory: options.spillDirectory },
      log,
      observer: {
        transactionProduced: ({ xid, commitLsn, commitTime, ops }) => {
          metrics.transactionDone();
          let changes = 0;
          for (const [op, count] of ops) {
            metrics.changeProduced(op, count);
            changes += count;
          }
          metrics.setLagSeconds((Date.now() - commitTime) / 1000);
          log.debug({ xid, commitLsn, changes }, 'transaction produced');
        },
        acknowledged: (lsn) => metrics.acknowledged(lsnToNumber(lsn)),
        spilled: ({ changes }) => metrics.changesSpilled(changes),
      },
      onFailure: (err) => ended.reject(err),
    });
    metrics.acknowledged(lsnToNumber(startLsn));
    let accepting = true;
    let paused = false;

    service.on('data', (lsn: string, message: Pgoutput.Message) => {
      if (!accepting) return;
      pipeline.push({ kind: 'message', lsn, message });
      if (!paused && pipeline.backlog >= options.maxQueuedMessages) {
        // Back-pressure: the library's own flowControl delivers keepalives ahead of queued data,
        // which would confirm positions not yet in Kafka, so the socket is paused here instead.
        paused = true;
        socketOf(service)?.pause?.();
        log.debug({ backlog: pipeline.backlog }, 'replication stream paused');
        void pipeline.backlogBelow(Math.floor(options.maxQueuedMessages / 2)).then(() => {
          paused = false;
          socketOf(service)?.resume?.();
        });
      }
    });
    service.on('heartbeat', (walEnd: string, _timestamp: number, replyRequested: boolean) => {
      // Answer at once with what is already safe, or the server drops us after wal_sender_timeout.
      if (replyRequested) {
        confirmExactly(pipeline.acknowledgedLsn).catch((err: unknown) =>
          log.warn({ err }, 'keepalive reply failed'),
        );
      }
      if (accepting) pipeline.push({ kind: 'keepalive', walEnd });
    });
    service.on('error', (err: Error) =>
      ended.reject(wrapPostgres(err, 'replication connection failed', { slot: options.slot })),
    );
    service.on('start', () => {
      this.streamingNow = true;
      this.backoff.reset();
      log.info(
        { startLsn, table: qualifiedTable(options), topic: options.topic },
        'streaming from slot',
      );
      this.streamingStarted.resolve();
    });

    const subscription = service
      .subscribe(
        new PgoutputPlugin({ protoVersion: 1, publicationNames: [options.publication] }),
        options.slot,
        startLsn,
      )
      .then(
        () =>
          ended.reject(
            new CdcPostgresError('replication stream ended', { context: { slot: options.slot } }),
          ),
        (err: unknown) =>
          ended.reject(wrapPostgres(err, 'START_REPLICATION failed', { slot: options.slot })),
      );
    const onStop = (): void => ended.resolve();
    this.stopController.signal.addEventListener('abort', onStop, { once: true });
    if (this.stopping) onStop();
    const heartbeat = setInterval(
      () => void this.heartbeat(service, pipeline, confirmExactly),
      options.heartbeatIntervalMs,
    );
    try {
      await ended.promise;
      // Graceful stop: take nothing new, produce and confirm every transaction received.
      accepting = false;
      await pipeline.drain();
      log.info(
        { acknowledgedLsn: pipeline.acknowledgedLsn },
        'flushed and confirmed before closing',
      );
    } finally {
      this.streamingNow = false;
      accepting = false;
      clearInterval(heartbeat);
      this.stopController.signal.removeEventListener('abort', onStop);
      await service.destroy().catch(() => undefined);
      await subscription;
      await pipeline.close();
    }
  }

  private heartbeatRunning = false;

  /**
   * While idle, writes a non-transactional logical message (so the WAL moves even on an
   * otherwise idle server) and pings the walsender; its keepalive answer carries the position
   * it decoded up to, which the pipeline confirms because no transaction is pending.
   */
  private async heartbeat(
    service: LogicalReplicationService,
    pipeline: TransactionPipeline,
    confirmExactly: (lsn: string, ping?: boolean) => Promise<void>,
  ): Promise<void> {
    if (this.heartbeatRunning || this.stopping) return;
    if (!pipeline.idle) {
      // Busy (or paused by back-pressure): a status update with what is already safe keeps
      // wal_sender_timeout from dropping the connection while Kafka catches up.
      if (!service.isStop()) {
        confirmExactly(pipeline.acknowledgedLsn).catch((err: unknown) =>
          this.log.warn({ err }, 'status update failed'),
        );
      }
      return;
    }
    this.heartbeatRunning = true;
    try {
      await this.pool.query(
        `SELECT pg_logical_emit_message(false, 'continuum-heartbeat', now()::text)`,
      );
      if (!service.isStop()) await confirmExactly(pipeline.acknowledgedLsn, true);
      this.metrics.setLagSeconds(0);
    } catch (err) {
      this.metrics.error('postgres');
      this.log.warn({ err }, 'heartbeat failed');
    } finally {
      this.heartbeatRunning = false;
    }
  }

  private async pollLag(): Promise<void> {
    try {
      const result = await this.pool.query<{ lag: string | null }>(
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag
           FROM pg_replication_slots WHERE slot_name = $1`,
        [this.options.slot],
      );
      const lag = result.rows[0]?.lag;
      if (lag !== null && lag !== undefined) this.metrics.setLagBytes(Number(lag));
    } catch (err) {
      this.log.debug({ err }, 'lag poll failed');
    }
  }
}
