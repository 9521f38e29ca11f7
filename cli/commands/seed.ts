// `continuum seed`: the deterministic fleet simulator writing shipments to PostgreSQL and
// telemetry to Kafka, bounded (--shipments/--duration, flat out) or live (--rate events/s).
import { randomInt } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import pg from 'pg';
import { Registry } from 'prom-client';
import { TelemetryProducer } from '../../connectors/telemetry-sdk/telemetry-producer.ts';
import type { TelemetrySink } from '../../connectors/telemetry-sdk/telemetry-sink.ts';
import type { Config } from '../../core/config.ts';
import {
  kafkaProbe,
  postgresProbe,
  probeDependencies,
  schemaRegistryProbe,
} from '../../core/dependency-probes.ts';
import { errorMessage } from '../../core/errors.ts';
import { failureReport } from '../../core/failure-report.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import type { Logger } from '../../core/logger.ts';
import { startMetricsServer } from '../../core/metrics-server.ts';
import { createSchemaRegistry, registerValueSchema } from '../../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
import { parseDuration } from '../../seeder/duration.ts';
import { FAULT_DEFAULTS, type FaultOptions } from '../../seeder/faults.ts';
import { liveSimulatedStart } from '../../seeder/pacer.ts';
import { liveSpeedup, runSeed, type SeedMode } from '../../seeder/run-seed.ts';
import { SeedMetrics } from '../../seeder/seed-metrics.ts';
import { PostgresShipmentStore, ShipmentExistsError } from '../../seeder/shipment-store.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../seeder/simulation.ts';
import { formatStatistics } from '../../seeder/statistics.ts';
import { EXIT } from '../exit-codes.ts';
import { preparePlatformTopics } from '../platform-topics.ts';
import type { CommandEnv } from './stack.ts';

export interface SeedCliOptions {
  seed?: number;
  shipments?: number;
  vehicles: number;
  customers: number;
  duration?: number;
  rate?: number;
  telemetryInterval: number;
  start?: number;
  cancelRate: number;
  exceptionRate: number;
  faults: boolean;
  faultDuplicate: number;
  faultOutOfOrder: number;
  faultLate: number;
  lateDelay: number;
  faultGpsJump: number;
  faultImpossible: number;
  faultMph: number;
  faultFahrenheit: number;
  faultMalformed: number;
  schema: string;
  topic?: string;
  json?: boolean;
}

/** A dependency that has not answered /ready's probe within this is reported down. */
const READY_PROBE_TIMEOUT_MS = 2_000;

const integerArg =
  (min: number) =>
  (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
const positiveArg = (raw: string): number => {
  const n = Number(raw);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const probabilityArg = (raw: string): number => {
  const n = Number(raw);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a probability between 0 and 1');
  return n;
};
export const durationArg = (raw: string): number => {
  try {
    const ms = parseDuration(raw);
    if (ms <= 0) throw new RangeError('must be positive');
    return ms;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};
const timeArg = (raw: string): number => {
  const t = Date.parse(raw);
  if (Number.isNaN(t))
    throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-01-05T05:00:00Z');
  return t;
};
const identifierArg = (raw: string): string => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw))
    throw new InvalidArgumentError('expected a lowercase PostgreSQL identifier (a-z, 0-9, _)');
  return raw;
};

/** Why a command line cannot run, or undefined: a live run must not start ahead of the wall clock. */
export function seedUsageProblem(opts: SeedCliOptions, now: number): string | undefined {
  if (opts.rate !== undefined && opts.start !== undefined && opts.start > now)
    return `--start ${new Date(opts.start).toISOString()} is ahead of the wall clock: a live run (--rate) never sends event times ahead of it, which the stream processors would dead-letter`;
  return undefined;
}

/** The simulation and mode a command line asks for; `now` and `randomSeed` make it testable. */
export function seedRunFromOptions(
  opts: SeedCliOptions,
  now: number,
  randomSeed: () => number,
): { simulation: SimulationOptions; mode: SeedMode } {
  const live = opts.rate !== undefined;
  const faults: FaultOptions = opts.faults
    ? {
        duplicate: opts.faultDuplicate,
        outOfOrder: opts.faultOutOfOrder,
        late: opts.faultLate,
        gpsJump: opts.faultGpsJump,
        impossibleValue: opts.faultImpossible,
        mph: opts.faultMph,
        fahrenheit: opts.faultFahrenheit,
        malformed: opts.faultMalformed,
        lateDelayMs: opts.lateDelay,
      }
    : {
        duplicate: 0,
        outOfOrder: 0,
        late: 0,
        gpsJump: 0,
        impossibleValue: 0,
        mph: 0,
        fahrenheit: 0,
        malformed: 0,
        lateDelayMs: opts.lateDelay,
      };
  const simulation: SimulationOptions = {
    ...SIMULATION_DEFAULTS,
    seed: opts.seed ?? randomSeed(),
    // Live runs start in the past, so the speedup never takes event times ahead of the wall
    // clock; bounded runs default to a fixed day so the same seed reproduces the same traffic
    // (rush hours depend on the clock).
    startTime:
      opts.start ??
      (live
        ? liveSimulatedStart({
            now,
            speedup: liveSpeedup(opts.rate ?? 0, opts.vehicles, opts.telemetryInterval),
            wallDurationMs: opts.duration,
          })
        : SIMULATION_DEFAULTS.startTime),
    durationMs: opts.duration ?? SIMULATION_DEFAULTS.durationMs,
    shipments: live ? opts.shipments : (opts.shipments ?? SIMULATION_DEFAULTS.shipments),
    // Live: roughly what the fleet can carry, about one trip per vehicle every three hours.
    shipmentsPerHour: live ? opts.vehicles / 3 : undefined,
    vehicles: opts.vehicles,
    customers: opts.customers,
    telemetryIntervalMs: opts.telemetryInterval,
    cancelRate: opts.cancelRate,
    exceptionRate: opts.exceptionRate,
    stopWhenDone: !live,
    faults,
  };
  const mode: SeedMode = live
    ? { kind: 'live', eventsPerSecond: opts.rate ?? 0, wallDurationMs: opts.duration }
    : { kind: 'bounded' };
  return { simulation, mode };
}

export interface SeedTelemetryOutput {
  sink: TelemetrySink;
  /** The real wire encoding, so the simulator can send truncated records. */
  encode: (event: VehicleTelemetry) => Promise<Buffer>;
}

/** The Kafka producer SDK writing Avro to `topic`, plus an encoder for truncated-record faults. */
export async function createSeedTelemetryOutput(
  config: Config,
  log: Logger,
  topic: string,
  metricsRegistry: Registry,
): Promise<SeedTelemetryOutput> {
  const registry = createSchemaRegistry(config);
  const schemaId = await registerValueSchema(registry, topic, 'VehicleTelemetry');
  const sink = await TelemetryProducer.create({
    config,
    log,
    options: { topic },
    registry,
    metricsRegistry,
  });
  return { sink, encode: (event) => registry.encode(schemaId, event) };
}

export function seedCommand(env: CommandEnv, deps: { metricsRegistry?: Registry } = {}): Command {
  const d = SIMULATION_DEFAULTS;
  const f = FAULT_DEFAULTS;
  return new Command('seed')
    .description(
      'simulate a fleet: shipments into PostgreSQL (in transactions) and telemetry into Kafka, with injected faults and recorded ground truth',
    )
    .option(
      '--seed <n>',
      'PRNG seed; the same seed and options reproduce the run (default: random, printed)',
      integerArg(0),
    )
    .option(
      '--shipments <n>',
      `shipments to create (bounded default ${d.shipments}; live: no limit)`,
      integerArg(0),
    )
    .option('--vehicles <n>', 'fleet size', integerArg(1), d.vehicles)
    .option('--customers <n>', 'customer sites', integerArg(1), d.customers)
    .option(
      '--duration <d>',
      'bounded: simulated time (default 6h); live: wall time to run (default: until Ctrl-C)',
      durationArg,
    )
    .addOption(
      new Option(
        '--rate <events/s>',
        'live mode: target telemetry events per wall-clock second',
      ).argParser(positiveArg),
    )
    .addOption(
      new Option('--telemetry-interval <d>', 'simulated time between two readings of a vehicle')
        .argParser(durationArg)
        .default(d.telemetryIntervalMs, '10s'),
    )
    .option(
      '--start <time>',
      'simulated start time (default: bounded 2026-01-05T05:00Z; live: as far back as the speedup covers in --duration, or in 1h, so simulated time reaches the present as that ends and never runs ahead of it)',
      timeArg,
    )
    .option(
      '--cancel-rate <p>',
      'probability a shipment is cancelled before pickup',
      probabilityArg,
      d.cancelRate,
    )
    .option(
      '--exception-rate <p>',
      'probability a shipment is delayed by an exception',
      probabilityArg,
      d.exceptionRate,
    )
    .option('--no-faults', 'inject no telemetry faults at all')
    .option(
      '--fault-duplicate <p>',
      'per reading: send it twice (same event id)',
      probabilityArg,
      f.duplicate,
    )
    .option(
      '--fault-out-of-order <p>',
      'per reading: hold it back 1.5–3.5 intervals',
      probabilityArg,
      f.outOfOrder,
    )
    .option('--fault-late <p>', 'per reading: hold it back --late-delay', probabilityArg, f.late)
    .addOption(
      new Option('--late-delay <d>', 'how late a late reading arrives')
        .argParser(durationArg)
        .default(f.lateDelayMs, '10m'),
    )
    .option('--fault-gps-jump <p>', 'per reading: position 5–50 km off', probabilityArg, f.gpsJump)
    .option(
      '--fault-impossible <p>',
      'per reading: fuel 140 %, speed -5 or 400 °C',
      probabilityArg,
      f.impossibleValue,
    )
    .option('--fault-mph <p>', 'per reading: speed in MPH', probabilityArg, f.mph)
    .option(
      '--fault-fahrenheit <p>',
      'per reading: temperature in °F',
      probabilityArg,
      f.fahrenheit,
    )
    .option(
      '--fault-malformed <p>',
      'per reading: an extra undecodable payload',
      probabilityArg,
      f.malformed,
    )
    .option('--schema <name>', 'PostgreSQL schema of the shipments table', identifierArg, 'public')
    .option('--topic <topic>', 'telemetry topic (default: CONTINUUM_TOPIC_TELEMETRY_RAW)')
    .option('--json', 'print the statistics as JSON instead of a table')
    .action(async (opts: SeedCliOptions) => {
      const config = env.config();
      const log = env.log();
      const now = Date.now();
      const problem = seedUsageProblem(opts, now);
      if (problem !== undefined) {
        env.out(problem);
        env.setExitCode(EXIT.usage);
        return;
      }
      const { simulation, mode } = seedRunFromOptions(opts, now, () => randomInt(0, 0xffff_ffff));
      const metricsRegistry = deps.metricsRegistry ?? new Registry();
      const topic = opts.topic ?? config.topics.telemetryRaw;
      const pool = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
      const controller = new AbortController();
      const onSignal = (): void => controller.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let output: SeedTelemetryOutput | undefined;
      // /metrics for Prometheus while a (long, live) run goes on; a second concurrent seed run
      // finds the port taken and runs without it.
      // /ready: PostgreSQL, Kafka and the schema registry each answered a real request (503 with
      // which did not, and why, while one is down).
      const readyAdmin = createKafkaClient(config, 'continuum-seed-ready', log).admin();
      const probes = [
        postgresProbe(pool),
        kafkaProbe(readyAdmin),
        schemaRegistryProbe(config.schemaRegistry.url),
      ];
      const metricsServer = await startMetricsServer({
        host: config.api.host,
        port: config.metricsPorts.seed,
        registry: metricsRegistry,
        readiness: async () => {
          const { ready, dependencies } = await probeDependencies(probes, READY_PROBE_TIMEOUT_MS);
          return { ready, detail: { dependencies } };
        },
      }).catch((err: unknown) => {
        log.warn(
          { err: errorMessage(err), port: config.metricsPorts.seed },
          'seed runs without /metrics',
        );
        return undefined;
      });
      try {
        await preparePlatformTopics(config, log);
        const store = await PostgresShipmentStore.create(pool, opts.schema);
        output = await createSeedTelemetryOutput(config, log, topic, metricsRegistry);
        const report = await runSeed({
          simulation,
          mode,
          store,
          sink: output.sink,
          encode: output.encode,
          log,
          metrics: new SeedMetrics(metricsRegistry),
          progress: { tty: Boolean(process.stderr.isTTY), stream: process.stderr },
          signal: controller.signal,
        });
        if (opts.json) {
          env.out(
            JSON.stringify(
              {
                seed: simulation.seed,
                ...report.statistics,
                eventsPerSecond: report.eventsPerSecond,
              },
              null,
              2,
            ),
          );
        } else {
          env.out(formatStatistics(report.statistics));
          env.out(
            `\nseed ${simulation.seed} (rerun with --seed ${simulation.seed}); ${report.groundTruth.length} ground-truth rows in ${opts.schema}.shipment_ground_truth; ` +
              `reached ${report.eventsPerSecond.toFixed(1)} telemetry events/s over ${(report.wallMs / 1000).toFixed(1)} s` +
              (mode.kind === 'live'
                ? ` (target ${mode.eventsPerSecond}/s, ${report.speedup?.toFixed(1)}× simulated time)`
                : ''),
          );
        }
      } catch (err) {
        log.error({ err, seed: simulation.seed, schema: opts.schema, topic }, 'seed run failed');
        env.out(`seed failed: ${failureReport(err)}`);
        if (err instanceof ShipmentExistsError)
          env.out(
            `  next: run another seed (--seed ${simulation.seed + 1}), into another schema (--schema <name>), or empty the tables first: TRUNCATE ${opts.schema}.shipments, ${opts.schema}.shipment_ground_truth`,
          );
        env.setExitCode(EXIT.failed);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // A failure close() reports was reported by the run's last flush already.
        await output?.sink.close().catch((err: unknown) => {
          log.warn({ err: errorMessage(err) }, 'closing the telemetry producer failed');
        });
        await metricsServer?.close();
        await readyAdmin.disconnect().catch(() => undefined);
        await pool.end();
      }
    });
}
