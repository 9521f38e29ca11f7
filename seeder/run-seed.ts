// One seed run, bounded (as fast as possible) or live (paced to a telemetry rate in wall time),
// with progress and metrics; returns what happened and the rate it actually reached.
import type { TelemetrySink } from '../connectors/telemetry-sdk/telemetry-sink.ts';
import type { Logger } from '../core/logger.ts';
import type { VehicleTelemetry } from '../schemas/types.ts';
import { WallClockPacer } from './pacer.ts';
import { SeedProgress, PROGRESS_DEFAULTS } from './progress.ts';
import type { SeedMetrics } from './seed-metrics.ts';
import type { ShipmentStore } from './shipment-store.ts';
import { Simulation, type SimulationOptions, type SimulationResult } from './simulation.ts';

export type SeedMode =
  | { kind: 'bounded' }
  /** `eventsPerSecond`: target telemetry rate in wall time; `wallDurationMs`: stop after (else on abort). */
  | { kind: 'live'; eventsPerSecond: number; wallDurationMs: number | undefined };

export interface SeedRunArgs {
  simulation: SimulationOptions;
  mode: SeedMode;
  store: ShipmentStore;
  sink: TelemetrySink;
  encode?: (event: VehicleTelemetry) => Promise<Buffer>;
  log: Logger;
  metrics?: SeedMetrics;
  /** Progress display; none in tests. */
  progress?: { tty: boolean; stream: NodeJS.WriteStream; logIntervalMs?: number };
  signal?: AbortSignal;
}

export interface SeedRunReport extends SimulationResult {
  mode: SeedMode['kind'];
  wallMs: number;
  /** Simulated ms per wall ms (live: what the target rate asked for). */
  speedup: number | undefined;
  /** Telemetry events sent per wall-clock second: the rate reached. */
  eventsPerSecond: number;
}

/** Simulated time that `eventsPerSecond` of telemetry covers per wall second. */
export function liveSpeedup(
  eventsPerSecond: number,
  vehicles: number,
  telemetryIntervalMs: number,
): number {
  return (eventsPerSecond * telemetryIntervalMs) / 1000 / vehicles;
}

function isoOrNull(time: number | undefined): string | null {
  return time === undefined ? null : new Date(time).toISOString();
}

/** Live runs without a wall duration run until aborted; ten years of simulated time is "forever". */
const UNTIL_ABORTED_MS = 10 * 365 * 86_400_000;

export async function runSeed(args: SeedRunArgs): Promise<SeedRunReport> {
  const log = args.log.child({ component: 'seeder' });
  let options = args.simulation;
  let speedup: number | undefined;
  let pacer: WallClockPacer | undefined;
  if (args.mode.kind === 'live') {
    speedup = liveSpeedup(args.mode.eventsPerSecond, options.vehicles, options.telemetryIntervalMs);
    pacer = new WallClockPacer(options.startTime, speedup);
    // Simulated time covered by the wall duration: at the speedup until it reaches the present,
    // then in step with the wall clock.
    const durationMs =
      args.mode.wallDurationMs === undefined
        ? UNTIL_ABORTED_MS
        : pacer.simulatedTimeAt(pacer.wallStart + args.mode.wallDurationMs) - options.startTime;
    options = { ...options, durationMs, stopWhenDone: false };
  }
  const simulation = new Simulation(options, {
    store: args.store,
    sink: args.sink,
    encode: args.encode,
    pacer,
    signal: args.signal,
  });
  const progress = args.progress
    ? new SeedProgress(simulation.statistics, {
        ...args.progress,
        logIntervalMs: args.progress.logIntervalMs ?? PROGRESS_DEFAULTS.logIntervalMs,
        log,
        metrics: args.metrics,
        simulatedTotalMs: options.durationMs,
      })
    : undefined;
  log.info(
    {
      mode: args.mode.kind,
      seed: options.seed,
      vehicles: options.vehicles,
      shipments: options.shipments ?? null,
      simulatedDurationMs: options.durationMs,
      telemetryIntervalMs: options.telemetryIntervalMs,
      speedup: speedup ?? null,
      simulatedStart: new Date(options.startTime).toISOString(),
      ...(pacer ? { reachesWallClockAt: isoOrNull(pacer.reachesWallClockAt()) } : {}),
    },
    'seed run starting',
  );
  const started = Date.now();
  progress?.start();
  let result: SimulationResult;
  try {
    result = await simulation.run();
    await args.sink.flush();
  } finally {
    progress?.stop();
  }
  if (!progress) args.metrics?.observe(result.statistics);
  const wallMs = Date.now() - started;
  const eventsPerSecond = (result.statistics.telemetrySent * 1000) / Math.max(1, wallMs);
  log.info(
    {
      wallMs,
      eventsPerSecond: Math.round(eventsPerSecond),
      telemetrySent: result.statistics.telemetrySent,
      shipmentsCreated: result.statistics.shipmentsCreated,
      shipmentsInFlight: result.statistics.shipmentsInFlight,
    },
    'seed run finished',
  );
  return { ...result, mode: args.mode.kind, wallMs, speedup, eventsPerSecond };
}
