// The telemetry archive's write rate (issue 13): the MongoDB sink as `continuum connect mongodb`
// runs it (SinkRunner + TelemetryHistorySink, buckets per vehicle, Avro through the registry)
// reading a topic of clean telemetry, beside the one-document-per-reading sink it replaced (the
// same-run baseline), into FerretDB on SQLite (the stack's) and into a FerretDB this benchmark
// starts on PostgreSQL (the stack's server, a database of its own), same records.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import { Registry } from 'prom-client';
import { ContinuumError, errorMessage } from '../core/errors.ts';
import { createKafkaClient } from '../core/kafka-client.ts';
import type { Logger } from '../core/logger.ts';
import { cachePath, servicePaths } from '../compose/native/native-service.ts';
import { FERRETDB_VERSION } from '../compose/native/services/mongodb.ts';
import type { Sink, SinkRecord } from '../connectors/sinks/sink.ts';
import { SINK_RUNNER_DEFAULTS, SinkRunner } from '../connectors/sinks/sink-runner.ts';
import type { TelemetryBucket } from '../connectors/sinks/mongodb/telemetry-buckets.ts';
import {
  TELEMETRY_COLLECTION,
  TelemetryHistorySink,
} from '../connectors/sinks/mongodb/telemetry-history-sink.ts';
import {
  createSchemaRegistry,
  registerValueSchema,
  valueSubject,
} from '../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../schemas/types.ts';
import { PER_READING_COLLECTION, PerReadingSink } from './archive-per-reading-sink.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { BenchProgress, benchProgressOptions } from './bench-progress.ts';
import { BenchScope, produceAll, type OutboundRecord } from './pipeline-kafka.ts';
import { simulatePipelineInput } from './pipeline-records.ts';

/** Clean readings at scale 1. */
const DEFAULT_READINGS = 60_000;

/**
 * The pipeline's sustained rate, cited (not measured here): bench/README.md, pipeline, "Event
 * time", 2026-12-05, kafkajs client (the default), median of three throughput rows.
 */
export const PIPELINE_SUSTAINED = {
  eventsPerSecond: 14_184,
  source: 'bench/README pipeline, 2026-12-05, kafkajs, median of 3',
};

class ArchiveBenchError extends ContinuumError {
  override readonly code = 'ARCHIVE_BENCH_FAILED';
}

type Backend = 'sqlite' | 'postgresql';
/** What the sink stores: buckets (the archive's sink now) or one document per reading (before). */
type Shape = 'buckets' | 'per-reading';

interface Variant {
  backend: Backend;
  shape: Shape;
}

/**
 * Every variant twice, in an order and then its reverse (A-B-C-D-D-C-B-A), so that none always
 * runs first (cold) or on a warmer machine; each figure is the mean of its two halves.
 */
export const VARIANT_ORDER: readonly Variant[] = (() => {
  const once: Variant[] = [
    { backend: 'sqlite', shape: 'per-reading' },
    { backend: 'sqlite', shape: 'buckets' },
    { backend: 'postgresql', shape: 'buckets' },
    { backend: 'postgresql', shape: 'per-reading' },
  ];
  return [...once, ...[...once].reverse()];
})();

/** The archive's sink, or the one it replaced, with its indexes; and how many readings it holds. */
interface ArchiveSink extends Sink<VehicleTelemetry> {
  ensureIndexes(): Promise<void>;
}

function sinkOf(shape: Shape, db: Db): ArchiveSink {
  return shape === 'buckets' ? new TelemetryHistorySink(db) : new PerReadingSink(db);
}

/** Distinct readings stored (a bucket's readings counted one by one). */
async function storedReadings(shape: Shape, db: Db): Promise<number> {
  if (shape === 'per-reading') return db.collection(PER_READING_COLLECTION).countDocuments();
  const buckets = await db
    .collection<TelemetryBucket>(TELEMETRY_COLLECTION)
    .find({}, { projection: { 'columns.eventId': 1 } })
    .toArray();
  return new Set(buckets.flatMap((b) => b.columns.eventId)).size;
}

/**
 * The readings as the runner would see them: split by partition (by vehicle, as the topic is
 * keyed), each partition's in order, cut every `flushRecords`: the store-only rows' flushes.
 */
export function flushesOf(
  events: readonly VehicleTelemetry[],
  partitions: number,
  flushRecords: number,
): { partition: number; readings: VehicleTelemetry[] }[] {
  const vehicleIndex = new Map<string, number>();
  const byPartition: VehicleTelemetry[][] = Array.from({ length: partitions }, () => []);
  for (const event of events) {
    let index = vehicleIndex.get(event.vehicleId);
    if (index === undefined) vehicleIndex.set(event.vehicleId, (index = vehicleIndex.size));
    byPartition[index % partitions]?.push(event);
  }
  const flushes: { partition: number; readings: VehicleTelemetry[] }[] = [];
  for (const [partition, readings] of byPartition.entries())
    for (let i = 0; i < readings.length; i += flushRecords)
      flushes.push({ partition, readings: readings.slice(i, i + flushRecords) });
  return flushes;
}

/** The sink under test, timed: from the first record it is handed to the flush that stored the last. */
class TimedSink implements Sink<VehicleTelemetry> {
  readonly name: string;
  firstAdd: number | undefined;
  lastFlush = 0;
  written = 0;
  flushes = 0;
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;

  private readonly inner: Sink<VehicleTelemetry>;
  private readonly expected: number;

  constructor(inner: Sink<VehicleTelemetry>, expected: number) {
    this.inner = inner;
    this.expected = expected;
    this.name = inner.name;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  add(record: SinkRecord<VehicleTelemetry>): void {
    this.firstAdd ??= performance.now();
    this.inner.add(record);
  }

  async flush(): Promise<{ written: number }> {
    const result = await this.inner.flush();
    this.flushes += 1;
    this.written += result.written;
    this.lastFlush = performance.now();
    if (this.written >= this.expected) this.resolveDone();
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) a process has used, from /proc; undefined when unreadable. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The stack's FerretDB process (native stack only; docker-compose has no pid file here). */
function stackFerretPid(ctx: BenchContext): number | undefined {
  try {
    const pid = Number(readFileSync(servicePaths(ctx.config, 'mongodb').pidFile, 'utf8').trim());
    return cpuSeconds(pid) === undefined ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** Server processes of the connections to `database` (the PostgreSQL-backed FerretDB's pool). */
async function postgresBackendPids(ctx: BenchContext, database: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: ctx.config.postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [database],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

async function connectMongo(url: string, timeoutMs: number): Promise<MongoClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 1_000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return client;
    } catch (err) {
      await client.close().catch(() => undefined);
      if (Date.now() > deadline)
        throw new ArchiveBenchError(`FerretDB at ${url} not ready: ${errorMessage(err)}`, {
          cause: err,
        });
      await delay(200);
    }
  }
}

/**
 * A FerretDB of the stack's version on a free loopback port, on the PostgreSQL handler, in a
 * database of its own in the stack's PostgreSQL (created here; dropped by the scope's cleanup).
 */
async function startPostgresFerret(
  ctx: BenchContext,
  scope: BenchScope,
  log: Logger,
): Promise<{ url: string; database: string; pid: number | undefined }> {
  const bin = cachePath(ctx.config, `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
  if (!existsSync(bin))
    throw new ArchiveBenchError(`no FerretDB binary at ${bin}: run \`continuum stack up\` first`);
  const database = `bench_archive_${scope.runId}`;
  const admin = new pg.Client({ connectionString: ctx.config.postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  scope.also(`postgres database ${database}`, async () => {
    const client = new pg.Client({ connectionString: ctx.config.postgres.url });
    await client.connect();
    try {
      await client.query(
        `DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`,
      );
    } finally {
      await client.end();
    }
  });
  const pgUrl = new URL(ctx.config.postgres.url);
  pgUrl.pathname = `/${database}`;
  const [port, debugPort] = [await freePort(), await freePort()];
  const stateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-bench-ferretdb-'));
  const child: ChildProcess = spawn(
    bin,
    [
      '--handler=postgresql',
      `--listen-addr=127.0.0.1:${port}`,
      `--debug-addr=127.0.0.1:${debugPort}`,
      `--state-dir=${stateDir}`,
      '--telemetry=disable',
      '--log-level=warn',
    ],
    // The URL (with its password) in the environment, not on a command line `ps` shows.
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FERRETDB_POSTGRESQL_URL: pgUrl.toString() },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  scope.also('ferretdb (postgresql)', async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(stateDir, { recursive: true, force: true });
  });
  const url = `mongodb://127.0.0.1:${port}/`;
  try {
    (await connectMongo(url, 20_000)).close().catch(() => undefined);
  } catch (err) {
    log.error({ stderr }, 'FerretDB on PostgreSQL did not start');
    throw err;
  }
  log.info({ port, database }, 'FerretDB on PostgreSQL started');
  return { url, database, pid: child.pid };
}

/**
 * `count` readings of the pipeline benchmark's simulated fleet (seed 7, 2,000 vehicles), one per
 * event id, as cleaning leaves them; not every simulated record is a reading, so ask for more.
 */
export async function cleanReadings(count: number): Promise<VehicleTelemetry[]> {
  for (let asked = Math.ceil(count * 1.5); ; asked *= 2) {
    const seen = new Set<string>();
    const events: VehicleTelemetry[] = [];
    for (const input of await simulatePipelineInput(asked)) {
      if (input.kind !== 'telemetry' || seen.has(input.event.eventId)) continue;
      seen.add(input.event.eventId);
      events.push(input.event);
      if (events.length === count) return events;
    }
    if (asked > count * 20)
      throw new ArchiveBenchError(`simulated ${events.length} readings, wanted ${count}`);
  }
}

interface RowResult extends Variant {
  /** CPU per 1,000 readings of this process (the sink: fetch, decode, add, flush) and of the store. */
  sinkCpuMs?: number;
  storeCpuMs?: number;
  /** Readings ÷ seconds from the first record handed to the sink to the flush of the last. */
  rate: number;
  /** The same from the runner's start (group join included). */
  rateFromStart: number;
  flushes: number;
}

/** One database per row, dropped after it, so every row writes into an empty collection. */
async function withFreshDb<T>(
  client: MongoClient,
  name: string,
  fn: (db: Db) => Promise<T>,
): Promise<T> {
  const db = client.db(name);
  await db.dropDatabase();
  try {
    return await fn(db);
  } finally {
    await db.dropDatabase().catch(() => undefined);
  }
}

interface CpuRow extends Variant {
  cpuMsPerThousand?: number;
}

/**
 * The store's CPU per 1,000 readings, buckets beside one document per reading, on each backend;
 * only when it could be read for every row of that backend.
 */
export function cpuFigures(
  rows: readonly CpuRow[],
  what = { name: 'archive store CPU per 1,000 readings', rows: 'store-only rows' },
): BenchFigure[] {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' and ');
  const figures: BenchFigure[] = [];
  const whose: Record<Backend, string> = {
    sqlite: 'FerretDB on SQLite (its process)',
    postgresql: 'FerretDB on PostgreSQL (FerretDB + its PostgreSQL backends)',
  };
  for (const backend of ['sqlite', 'postgresql'] as const) {
    const of = (shape: Shape): number[] | undefined => {
      const mine = rows.filter((r) => r.backend === backend && r.shape === shape);
      const cpu = mine.flatMap((r) => r.cpuMsPerThousand ?? []);
      return mine.length >= 2 && cpu.length === mine.length ? cpu : undefined;
    };
    const buckets = of('buckets');
    const perReading = of('per-reading');
    if (!buckets || !perReading) continue;
    figures.push({
      name: `${what.name}, buckets, ${whose[backend]}`,
      value: mean(buckets),
      unit: 'ms',
      baseline: { name: 'one document per reading (before)', value: mean(perReading) },
      notes: `${what.rows}; halves ${list(buckets)} (one per reading ${list(perReading)}); 1 core = 1,000 ms/s, so 1,000 ÷ this × 1,000 readings/s is what one core of it stores`,
    });
  }
  return figures;
}

export const archiveBenchmark: Benchmark = {
  name: 'archive',
  async run(ctx: BenchContext): Promise<BenchFigure[]> {
    const log = ctx.log.child({ bench: 'archive' });
    const quiet = log.child({}, { level: 'warn' });
    const readings = Math.max(2_000, Math.round(DEFAULT_READINGS * ctx.scale));
    const partitions = ctx.config.topics.partitions;
    const kafka = createKafkaClient(ctx.config, 'bench-archive', quiet);
    const scope = new BenchScope(kafka, ctx.config.schemaRegistry.url, log);
    const registry = createSchemaRegistry(ctx.config);
    const clients: MongoClient[] = [];
    // Ctrl-C: what the run created (topics, subject, databases, the FerretDB on PostgreSQL) is
    // deleted before the process exits; a second Ctrl-C exits at once and leaves it.
    let interrupted = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (interrupted) process.exit(130);
      interrupted = true;
      log.warn({ signal }, 'interrupted; deleting what the benchmark created');
      void deleteCreated(`bench_archive_${scope.runId}`, clients, scope)
        .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'clean-up failed'))
        .finally(() => process.exit(130));
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    await scope.admin.connect();
    try {
      // Readings of the pipeline benchmark's simulated fleet, one per event id (as cleaning leaves them).
      const events = await cleanReadings(readings);

      const topic = scope.topic('telemetry.clean');
      await scope.createTopics([topic], partitions);
      scope.subject(valueSubject(topic));
      const schemaId = await registerValueSchema(registry, topic, 'VehicleTelemetry');
      const records: OutboundRecord[] = [];
      let bytes = 0;
      for (const event of events) {
        const value = await registry.encode(schemaId, event);
        bytes += value.length;
        records.push({
          topic,
          message: { key: event.vehicleId, value, timestamp: String(event.eventTime) },
        });
      }
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        const bar = new BenchProgress(
          'archive: writing input',
          readings,
          benchProgressOptions(log),
        );
        await produceAll(producer, records, bar);
        bar.stop();
      } finally {
        await producer.disconnect();
      }
      records.length = 0;

      const stack = await connectMongo(ctx.config.mongodb.url, 10_000);
      clients.push(stack);
      const ferret = await startPostgresFerret(ctx, scope, log);
      const onPostgres = await connectMongo(ferret.url, 10_000);
      clients.push(onPostgres);
      const byBackend: Record<Backend, MongoClient> = { sqlite: stack, postgresql: onPostgres };

      const archive = ctx.config.archive;
      const flushBoundOf = (shape: Shape): { flushRecords: number; flushBytes: number } =>
        shape === 'buckets'
          ? archive
          : {
              flushRecords: SINK_RUNNER_DEFAULTS.flushRecords,
              flushBytes: SINK_RUNNER_DEFAULTS.flushBytes,
            };
      const label = (v: Variant): string => `${v.shape} → ${v.backend}`;

      // CPU the store spends per reading: FerretDB's process, and on PostgreSQL also the server
      // processes of FerretDB's connections (read before and after each row; a connection opened
      // or closed during a row counts from its start or not at all). Less exposed to the other work
      // on the machine than a rate. Only where /proc shows the processes (the native stack).
      const ferretPids: Record<Backend, number | undefined> = {
        sqlite: stackFerretPid(ctx),
        postgresql: ferret.pid,
      };
      const storeCpu = async (backend: Backend): Promise<Map<number, number> | undefined> => {
        const pid = ferretPids[backend];
        if (pid === undefined) return undefined;
        const pids = [pid];
        if (backend === 'postgresql')
          pids.push(...(await postgresBackendPids(ctx, ferret.database)));
        const cpu = new Map<number, number>();
        for (const p of pids) cpu.set(p, cpuSeconds(p) ?? 0);
        return cpu;
      };
      const sinkRows: RowResult[] = [];
      for (const [i, variant] of VARIANT_ORDER.entries()) {
        const { backend, shape } = variant;
        const dbName = `bench_archive_${scope.runId}_${i}`;
        const row = await withFreshDb(byBackend[backend], dbName, async (db) => {
          const inner = sinkOf(shape, db);
          await inner.ensureIndexes();
          const sink = new TimedSink(inner, readings);
          let failure: Error | undefined;
          let sinkCpuMs: number | undefined;
          let storeCpuMs: number | undefined;
          const runner = new SinkRunner<VehicleTelemetry>({
            kafka,
            topic,
            groupId: scope.group(`archive-${backend}-${shape}-${i}`),
            sink,
            decode: async (value) => (await registry.decode(value)) as VehicleTelemetry,
            log: quiet,
            metricsRegistry: new Registry(),
            onFatal: (err) => (failure = err),
            ...flushBoundOf(shape),
          });
          const storeBefore = await storeCpu(backend);
          const processBefore = process.cpuUsage();
          const started = performance.now();
          await runner.start();
          const bar = new BenchProgress(
            `archive: sink, ${label(variant)}`,
            readings,
            benchProgressOptions(log),
          );
          const ticker = setInterval(() => bar.update(sink.written), 500);
          try {
            while (sink.written < readings) {
              if (failure) throw failure;
              await Promise.race([sink.done, delay(200)]);
            }
            const processCpu = process.cpuUsage(processBefore);
            sinkCpuMs = (processCpu.user + processCpu.system) / 1000 / (readings / 1000);
            const storeAfter = await storeCpu(backend);
            if (storeBefore && storeAfter) {
              let cpu = 0;
              for (const [p, after] of storeAfter) cpu += after - (storeBefore.get(p) ?? 0);
              storeCpuMs = (cpu * 1000) / (readings / 1000);
            }
          } finally {
            clearInterval(ticker);
            bar.stop();
            await runner.stop();
          }
          const stored = await storedReadings(shape, db);
          if (stored !== readings)
            throw new ArchiveBenchError(
              `${label(variant)}: ${stored} readings stored of ${readings}`,
            );
          const seconds = (sink.lastFlush - (sink.firstAdd ?? started)) / 1000;
          return {
            backend,
            shape,
            rate: readings / seconds,
            rateFromStart: readings / ((sink.lastFlush - started) / 1000),
            flushes: sink.flushes,
            ...(sinkCpuMs === undefined ? {} : { sinkCpuMs }),
            ...(storeCpuMs === undefined ? {} : { storeCpuMs }),
          };
        });
        log.info(row, 'archive row measured');
        sinkRows.push(row);
      }

      // The sink's store-writing part alone: add + flush, per partition as the runner sees it,
      // the shape's own flush bound a batch.
      const storeRows: (CpuRow & { rate: number })[] = [];
      for (const [i, variant] of VARIANT_ORDER.entries()) {
        const { backend, shape } = variant;
        const dbName = `bench_archive_${scope.runId}_store_${i}`;
        const flushes = flushesOf(events, partitions, flushBoundOf(shape).flushRecords);
        const { rate, cpuMsPerThousand } = await withFreshDb(
          byBackend[backend],
          dbName,
          async (db) => {
            const sink = sinkOf(shape, db);
            await sink.ensureIndexes();
            const cpuBefore = await storeCpu(backend);
            const started = performance.now();
            const offsets = new Map<number, number>();
            for (const { partition, readings: flush } of flushes) {
              for (const value of flush) {
                const offset = offsets.get(partition) ?? 0;
                offsets.set(partition, offset + 1);
                sink.add({
                  topic,
                  partition,
                  offset: String(offset),
                  key: value.vehicleId,
                  value,
                  timestamp: value.eventTime,
                });
              }
              await sink.flush();
            }
            const seconds = (performance.now() - started) / 1000;
            const cpuAfter = await storeCpu(backend);
            let cpu: number | undefined;
            if (cpuBefore && cpuAfter) {
              cpu = 0;
              for (const [p, after] of cpuAfter) cpu += after - (cpuBefore.get(p) ?? 0);
            }
            const stored = await storedReadings(shape, db);
            if (stored !== readings)
              throw new ArchiveBenchError(
                `store only, ${label(variant)}: ${stored} readings stored of ${readings}`,
              );
            return {
              rate: readings / seconds,
              cpuMsPerThousand: cpu === undefined ? undefined : (cpu * 1000) / (readings / 1000),
            };
          },
        );
        log.info({ backend, shape, rate, cpuMsPerThousand }, 'archive store-only row measured');
        storeRows.push({
          backend,
          shape,
          rate,
          ...(cpuMsPerThousand === undefined ? {} : { cpuMsPerThousand }),
        });
      }

      const of = <R extends Variant>(rows: R[], v: Variant): R[] =>
        rows.filter((r) => r.backend === v.backend && r.shape === v.shape);
      const mean = (rows: { rate: number }[]): number =>
        rows.reduce((a, r) => a + r.rate, 0) / rows.length;
      const halves = (rows: { rate: number }[]): string =>
        rows.map((r) => Math.round(r.rate).toLocaleString('en-US')).join(' and ');
      const pipeline = {
        name: `pipeline sustained rate (cited: ${PIPELINE_SUSTAINED.source}; not this run)`,
        value: PIPELINE_SUSTAINED.eventsPerSecond,
      };
      const input = `${readings.toLocaleString('en-US')} clean readings of ${(bytes / readings).toFixed(0)} B (Avro), ${partitions} partitions, FerretDB ${FERRETDB_VERSION}`;
      const bound = (shape: Shape): string => {
        const b = flushBoundOf(shape);
        return `a flush every ${b.flushRecords.toLocaleString('en-US')} records / ${(b.flushBytes / 1024 / 1024).toFixed(0)} MiB and at each fetched batch's end`;
      };
      const sinkFigure = (v: Variant, baseline: BenchFigure['baseline']): BenchFigure => {
        const rows = of(sinkRows, v);
        return {
          name: `archive: Kafka → mongodb sink (${v.shape === 'buckets' ? 'buckets' : 'one document per reading, before'}) → FerretDB on ${v.backend === 'sqlite' ? 'SQLite (the stack’s)' : 'PostgreSQL'}`,
          value: mean(rows),
          unit: 'events/s',
          ...(baseline ? { baseline } : {}),
          notes: `${input}; ${bound(v.shape)}; first record read → last flush, mean of the halves (${halves(rows)}); from the runner's start (group join included): ${rows.map((r) => Math.round(r.rateFromStart).toLocaleString('en-US')).join(' and ')}; flushes ${rows.map((r) => r.flushes).join(' and ')}`,
        };
      };
      const storeFigure = (v: Variant, baseline: BenchFigure['baseline']): BenchFigure => {
        const rows = of(storeRows, v);
        return {
          name: `archive store only: sink add + flush (${v.shape === 'buckets' ? 'buckets' : 'one document per reading, before'}), FerretDB on ${v.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`,
          value: mean(rows),
          unit: 'events/s',
          ...(baseline ? { baseline } : {}),
          notes: `no Kafka: the same readings per partition, ${flushBoundOf(v.shape).flushRecords.toLocaleString('en-US')} a flush; halves ${halves(rows)}`,
        };
      };
      const beforeOn = (rows: (Variant & { rate: number })[], backend: Backend) => ({
        name: 'one document per reading (before), same backend, this run',
        value: mean(of(rows, { backend, shape: 'per-reading' })),
      });
      const v = (backend: Backend, shape: Shape): Variant => ({ backend, shape });
      return [
        sinkFigure(v('sqlite', 'buckets'), pipeline),
        sinkFigure(v('sqlite', 'per-reading'), pipeline),
        sinkFigure(v('postgresql', 'buckets'), beforeOn(sinkRows, 'postgresql')),
        sinkFigure(v('postgresql', 'per-reading'), {
          name: 'the same into FerretDB on SQLite',
          value: mean(of(sinkRows, v('sqlite', 'per-reading'))),
        }),
        storeFigure(v('sqlite', 'buckets'), beforeOn(storeRows, 'sqlite')),
        storeFigure(v('sqlite', 'per-reading'), pipeline),
        storeFigure(v('postgresql', 'buckets'), beforeOn(storeRows, 'postgresql')),
        storeFigure(v('postgresql', 'per-reading'), {
          name: 'the same into FerretDB on SQLite',
          value: mean(of(storeRows, v('sqlite', 'per-reading'))),
        }),
        ...cpuFigures(storeRows),
        // The whole archive's CPU through Kafka: this process (the sink) plus the store's.
        ...cpuFigures(
          sinkRows.map((r) => ({
            backend: r.backend,
            shape: r.shape,
            ...(r.sinkCpuMs === undefined || r.storeCpuMs === undefined
              ? {}
              : { cpuMsPerThousand: r.sinkCpuMs + r.storeCpuMs }),
          })),
          {
            name: 'archive CPU per 1,000 readings through Kafka (the sink process + the store)',
            rows: `sink rows; of it the sink process ${sinkRows
              .map((r) => `${r.shape}/${r.backend} ${r.sinkCpuMs?.toFixed(0) ?? '?'}`)
              .join(', ')}`,
          },
        ),
      ];
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      for (const client of clients) await client.close().catch(() => undefined);
      await scope.cleanup();
      await scope.admin.disconnect();
    }
  },
};

/**
 * An interrupted run's clean-up: the rows' databases (`prefix…`) on every FerretDB the run
 * opened a client to (a finished row drops its own), then what the scope remembers.
 */
async function deleteCreated(
  prefix: string,
  clients: readonly MongoClient[],
  scope: BenchScope,
): Promise<void> {
  for (const client of clients) {
    const { databases } = await client
      .db()
      .admin()
      .listDatabases({ nameOnly: true })
      .catch(() => ({ databases: [] as { name: string }[] }));
    for (const { name } of databases)
      if (name.startsWith(prefix))
        await client
          .db(name)
          .dropDatabase()
          .catch(() => undefined);
    await client.close().catch(() => undefined);
  }
  await scope.cleanup();
  await scope.admin.disconnect().catch(() => undefined);
}
