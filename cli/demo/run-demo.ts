// `continuum demo`: the whole platform on the local stack — CDC, the stream applications, the
// state and archive sinks and a live simulated fleet — as child processes, with a status line
// until Ctrl-C (or --duration). A fresh start (default) makes reruns independent of earlier ones.
import { writeFile, mkdir } from 'node:fs/promises';
import nodePath from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import type { Logger } from '../../core/logger.ts';
import { handleShutdown } from '../../core/shutdown.ts';
import { waitFor } from '../../core/wait-for.ts';
import { prometheusTargetsDir } from '../../compose/native/services/prometheus.ts';
import { shipmentStatePostgresDefaults } from '../../connectors/sinks/postgres/run-shipment-state-postgres.ts';
import { shipmentStateRedisDefaults } from '../../connectors/sinks/redis/run-shipment-state-redis.ts';
import { shipmentStateKeys } from '../../connectors/sinks/redis/shipment-state-hash.ts';
import { apiKeyEntryText, generateApiKey } from '../../core/api-keys.ts';
import { liveSimulatedStart } from '../../seeder/pacer.ts';
import { liveSpeedup } from '../../seeder/run-seed.ts';
import {
  demoUrls,
  formatStatusLine,
  formatUrls,
  readPipelineRates,
  StatusLine,
} from './demo-status.ts';
import { freshStart } from './fresh-start.ts';
import { ProcessGroup } from './process-group.ts';

export interface DemoOptions {
  /** Telemetry events per wall-clock second the simulated fleet sends. */
  rate: number;
  vehicles: number;
  /** Simulated time between two readings of a vehicle: with `rate`, how fast simulated time runs. */
  telemetryIntervalMs: number;
  /** Reset the stream applications and the materialized state first. */
  fresh: boolean;
  /** Stop after this long (ms); until Ctrl-C when absent. */
  wallDurationMs?: number;
  statusIntervalMs: number;
}

export const DEMO_DEFAULTS: DemoOptions = {
  rate: 40,
  vehicles: 20,
  // 40 events/s × 30 s ÷ 20 vehicles: simulated time runs 60× — a delivery every few minutes.
  telemetryIntervalMs: 30_000,
  fresh: true,
  statusIntervalMs: 10_000,
};

/**
 * /metrics ports of the sink processes, after the CDC source's CONTINUUM_CONNECT_METRICS_PORT
 * (9465 → 9468, 9469, 9470), so moving the platform's ports moves them too.
 */
export function sinkMetricsPorts(config: Config): Record<'redis' | 'postgres' | 'mongodb', number> {
  const base = config.metricsPorts.connect;
  return { redis: base + 3, postgres: base + 4, mongodb: base + 5 };
}

/** How long the CDC source may take to stream (a snapshot of a large table counts). */
const CDC_STREAMING_TIMEOUT_MS = 180_000;

/** Resolves once the demo's CDC source answers /ready (its slot streams). */
async function waitForCdcStreaming(config: Config): Promise<void> {
  const host = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host;
  const url = `http://${host}:${config.metricsPorts.connect}/ready`;
  await waitFor(async () => (await fetch(url)).ok, {
    timeoutMs: CDC_STREAMING_TIMEOUT_MS,
    maxIntervalMs: 500,
    description: `the CDC source to stream (${url})`,
  });
}

export interface DemoStatus {
  shipmentsByStatus: Record<string, number>;
  onMap: number;
  statesInPostgres: number;
}

export interface DemoResult {
  status: DemoStatus;
  stoppedBy: string;
  logFiles: { name: string; logFile: string }[];
}

export async function runDemo(
  config: Config,
  log: Logger,
  out: (line: string) => void,
  options: DemoOptions,
): Promise<DemoResult> {
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
  // A key made for this run only (its hash goes to the API's environment, the key is printed).
  const demoKey = generateApiKey();
  const apiKeys = [process.env.CONTINUUM_API_KEYS, apiKeyEntryText('demo', ['admin'], demoKey)]
    .filter(Boolean)
    .join(';');
  const group = new ProcessGroup({
    logDir: nodePath.join(config.stateDir, 'demo'),
    log,
    env: { ...process.env, CONTINUUM_API_KEYS: apiKeys },
  });
  try {
    if (options.fresh) {
      const admin = createKafkaClient(config, 'demo', log).admin();
      await admin.connect();
      try {
        const report = await freshStart(config, { admin, redis, pool });
        out(
          `fresh start: ${report.applications.length} applications and sinks reset to the end of their inputs, ${report.redisKeysDeleted} Redis keys and ${report.postgresRowsDeleted} shipment_state rows removed`,
        );
      } finally {
        await admin.disconnect();
      }
    }
    await writeSinkTargets(config);

    await group.start('lag', ['lag']);
    await group.start('cdc', ['connect', 'cdc']);
    await group.start('streams', ['streams']);
    const sinkPorts = sinkMetricsPorts(config);
    for (const sink of ['redis', 'postgres', 'mongodb'] as const)
      await group.start(`sink-${sink}`, [
        'connect',
        sink,
        '--metrics-port',
        String(sinkPorts[sink]),
      ]);
    await group.start('api', ['api']);
    // The ETA trainer: trains as deliveries complete, logs to MLflow, publishes to eta.models.
    await group.start('ml', ['ml']);
    // The seeder writes shipments from its first second: it starts once the CDC source streams
    // (its /ready), so the slot exists before the first write and every change is captured, not
    // only the rows a late snapshot finds.
    await Promise.race([waitForCdcStreaming(config), group.failed]);
    const speedup = liveSpeedup(options.rate, options.vehicles, options.telemetryIntervalMs);
    // In the past, so that the sped-up fleet never sends event times ahead of the wall clock
    // (the stream processors dead-letter those): it reaches the present as the demo's
    // --duration ends, or after the seeder's default span when the demo runs until Ctrl-C.
    const simulatedStart = liveSimulatedStart({
      now: Date.now(),
      speedup,
      wallDurationMs: options.wallDurationMs,
    });
    await group.start('seed', [
      'seed',
      '--rate',
      String(options.rate),
      '--vehicles',
      String(options.vehicles),
      '--telemetry-interval',
      `${options.telemetryIntervalMs / 1000}s`,
      '--start',
      new Date(simulatedStart).toISOString(),
    ]);
    out(
      `demo running: simulated fleet of ${options.vehicles} vehicles at ${options.rate} events/s (simulated time from ${new Date(simulatedStart).toISOString()}, ${speedup.toFixed(0)}× wall time until it reaches the present, then in step with it) → CDC → streams → Redis, PostgreSQL, MongoDB → API, UI; the ETA trainer retrains as deliveries complete (train now: curl -X POST ${demoUrls(config).ui}v1/ml/train -H 'x-api-key: ${demoKey}' -H 'content-type: application/json' -d '{}'). Ctrl-C stops.`,
    );
    out(formatUrls(demoUrls(config), demoKey, nodePath.join(config.stateDir, 'demo')));

    let stoppedBy = 'signal';
    const onSignal = (signal: NodeJS.Signals): void => {
      stoppedBy = signal;
      group.expectExits();
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    const shutdown = handleShutdown(log);
    const timers: NodeJS.Timeout[] = [];
    if (options.wallDurationMs !== undefined)
      timers.push(
        setTimeout(() => {
          stoppedBy = 'duration';
          shutdown.trigger('demo duration reached');
        }, options.wallDurationMs),
      );
    group.failed.catch((err: unknown) => {
      stoppedBy = errorMessage(err);
      shutdown.trigger(stoppedBy);
    });
    // One compact line (rewritten in place on a terminal); the processes log to their files.
    const line = new StatusLine();
    const statusTimer = setInterval(
      () => {
        Promise.all([
          readStatus(config, redis, pool),
          readPipelineRates(config.prometheus.url, config.streams.applicationPrefix),
        ])
          .then(([status, rates]) => line.show(formatStatusLine(status, rates)))
          .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'status read failed'));
      },
      line.inPlace ? 2_000 : options.statusIntervalMs,
    );
    timers.push(statusTimer);
    await shutdown.done;
    process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
    for (const t of timers) clearTimeout(t);
    line.end();
    await group.stop();
    const status = await readStatus(config, redis, pool);
    out(`demo stopped (${stoppedBy}). ${formatStatus(status)}`);
    return { status, stoppedBy, logFiles: group.logFiles };
  } finally {
    await group.stop();
    await redis.quit().catch(() => undefined);
    await pool.end();
  }
}

async function writeSinkTargets(config: Config): Promise<void> {
  const dir = prometheusTargetsDir(config);
  await mkdir(dir, { recursive: true });
  const targets = Object.entries(sinkMetricsPorts(config)).map(([sink, port]) => ({
    targets: [`${config.api.host}:${port}`],
    labels: { job: `continuum-sink-${sink}` },
  }));
  await writeFile(nodePath.join(dir, 'demo-sinks.json'), `${JSON.stringify(targets, null, 2)}\n`);
}

/** What the sinks have materialized, where the demo's sinks write it (their defaults). */
export async function readStatus(config: Config, redis: Redis, pool: pg.Pool): Promise<DemoStatus> {
  const keys = shipmentStateKeys(shipmentStateRedisDefaults(config).keyNamespace);
  const table = `"${shipmentStatePostgresDefaults(config).schema}".shipment_state`;
  const onMap = await redis.zcard(keys.geoKey);
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
  const shipmentsByStatus: Record<string, number> = {};
  let statesInPostgres = 0;
  if (exists.rows[0]?.t) {
    const rows = await pool.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${table} GROUP BY status ORDER BY status`,
    );
    for (const row of rows.rows) {
      shipmentsByStatus[row.status] = Number(row.n);
      statesInPostgres += Number(row.n);
    }
  }
  return { shipmentsByStatus, onMap, statesInPostgres };
}

export function formatStatus(status: DemoStatus): string {
  const byStatus = Object.entries(status.shipmentsByStatus)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  return `shipments in state: ${status.statesInPostgres}${byStatus ? ` (${byStatus})` : ''}; on the map: ${status.onMap}`;
}
