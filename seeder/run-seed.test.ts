import { Registry } from 'prom-client';
import { createLogger } from '../core/logger.ts';
import type { VehicleTelemetry } from '../schemas/types.ts';
import { MemoryShipmentStore, MemoryTelemetrySink } from './memory-ports.ts';
import { liveSpeedup, runSeed } from './run-seed.ts';
import { SeedMetrics } from './seed-metrics.ts';
import { Simulation, SIMULATION_DEFAULTS, type SimulationOptions } from './simulation.ts';
import { formatStatistics } from './statistics.ts';

const SMALL: SimulationOptions = {
  ...SIMULATION_DEFAULTS,
  seed: 11,
  vehicles: 4,
  customers: 10,
  shipments: 8,
  durationMs: 24 * 3_600_000,
  telemetryIntervalMs: 60_000,
};
const log = createLogger('silent');

/** Aborts once it has received `limit` events: a live run stopped by a condition, not a clock. */
class StoppingSink extends MemoryTelemetrySink {
  readonly controller = new AbortController();
  private readonly limit: number;
  constructor(limit: number) {
    super();
    this.limit = limit;
  }
  override async send(event: VehicleTelemetry): Promise<void> {
    await super.send(event);
    if (this.events.length >= this.limit) this.controller.abort();
  }
}

describe('runSeed', () => {
  test('bounded: the same statistics as the simulation alone, metrics advanced to them, a rate reported', async () => {
    const registry = new Registry();
    const sink = new MemoryTelemetrySink();
    const report = await runSeed({
      simulation: SMALL,
      mode: { kind: 'bounded' },
      store: new MemoryShipmentStore(),
      sink,
      log,
      metrics: new SeedMetrics(registry),
    });
    const direct = await new Simulation(SMALL, {
      store: new MemoryShipmentStore(),
      sink: new MemoryTelemetrySink(),
    }).run();
    expect(report.statistics).toEqual(direct.statistics);
    expect(report.mode).toBe('bounded');
    expect(report.eventsPerSecond).toBeGreaterThan(0);
    expect(sink.flushes).toBe(1);

    const metrics = await registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      metrics
        .find((m) => m.name === name)
        ?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    expect(value('continuum_seed_telemetry_sent_total')).toBe(report.statistics.telemetrySent);
    expect(value('continuum_seed_shipment_changes_total', { status: 'DELIVERED' })).toBe(
      report.statistics.changesByStatus.DELIVERED,
    );
    expect(value('continuum_seed_faults_injected_total', { kind: 'duplicate' })).toBe(
      report.statistics.faults.duplicate,
    );
    expect(report.statistics.shipmentsInFlight).toBe(0);
    expect(value('continuum_seed_shipments_in_flight')).toBe(0);
    expect(value('continuum_seed_simulated_elapsed_seconds')).toBe(
      report.statistics.simulatedMs / 1000,
    );
    expect(formatStatistics(report.statistics)).toMatch(/fault\s+duplicate\s+\d+/);
  });

  test('live: paced, runs until aborted, and the held-back events still go out', async () => {
    const sink = new StoppingSink(40);
    const report = await runSeed({
      simulation: { ...SMALL, shipments: undefined },
      // A huge rate keeps the pacer's waits at zero: the test is about stopping, not timing.
      mode: { kind: 'live', eventsPerSecond: 1e9, wallDurationMs: undefined },
      store: new MemoryShipmentStore(),
      sink,
      log,
      signal: sink.controller.signal,
    });
    expect(report.mode).toBe('live');
    expect(report.speedup).toBe(liveSpeedup(1e9, SMALL.vehicles, SMALL.telemetryIntervalMs));
    expect(report.statistics.telemetrySent).toBeGreaterThanOrEqual(40);
    expect(report.statistics.telemetrySent).toBe(sink.events.length);
    // Every reading went out, the held-back ones included, plus the duplicates.
    expect(report.statistics.telemetrySent).toBe(
      report.statistics.telemetryReadings + report.statistics.faults.duplicate,
    );
    expect(report.statistics.simulatedMs).toBeLessThan(SMALL.durationMs);
  });
});

/**
 * Notes the wall clock at every send: when each event time went out. Stops the run at the first
 * event time ahead of it, or after `limit` events, so a run that is not held back fails fast.
 */
class ClockedSink extends MemoryTelemetrySink {
  readonly sentAt: number[] = [];
  readonly controller = new AbortController();
  private readonly limit: number;
  constructor(limit: number) {
    super();
    this.limit = limit;
  }
  override async send(event: VehicleTelemetry): Promise<void> {
    const now = Date.now();
    this.sentAt.push(now);
    await super.send(event);
    if (event.eventTime > now || this.events.length >= this.limit) this.controller.abort();
  }
}

describe('live: never ahead of the wall clock', () => {
  test('a run started an hour back at a huge speedup slows to the wall clock, and sends no event time before it is due', async () => {
    const sink = new ClockedSink(10_000);
    const startTime = Date.now() - 3_600_000;
    const report = await runSeed({
      simulation: { ...SMALL, shipments: undefined, startTime },
      mode: { kind: 'live', eventsPerSecond: 1e9, wallDurationMs: 300 },
      store: new MemoryShipmentStore(),
      sink,
      log,
      signal: sink.controller.signal,
    });
    const ahead = sink.events.filter((e, i) => e.eventTime > (sink.sentAt[i] ?? 0));
    expect(ahead).toEqual([]);
    // The speedup alone would cover centuries in 300 ms; held to the wall clock, the run covers
    // the hour behind plus the wall time it took, and ends by itself.
    expect(sink.controller.signal.aborted).toBe(false);
    expect(report.statistics.simulatedMs).toBeGreaterThanOrEqual(
      3_600_000 - SMALL.telemetryIntervalMs,
    );
    expect(report.statistics.simulatedMs).toBeLessThanOrEqual(3_600_000 + report.wallMs);
  });
});

describe('live pacing', () => {
  test('the speedup turns a telemetry rate into simulated seconds per wall second', () => {
    // 20 vehicles reporting every 10 s make 2 events per simulated second; 200/s needs 100×.
    expect(liveSpeedup(200, 20, 10_000)).toBe(100);
  });
});
