import { Registry } from 'prom-client';
import { createLogger } from '../core/logger.ts';
import type { VehicleTelemetry } from '../schemas/types.ts';
import { MemoryShipmentStore, MemoryTelemetrySink } from './memory-ports.ts';
import { WallClockPacer } from './pacer.ts';
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

describe('live pacing', () => {
  test('the speedup turns a telemetry rate into simulated seconds per wall second', () => {
    // 20 vehicles reporting every 10 s make 2 events per simulated second; 200/s needs 100×.
    expect(liveSpeedup(200, 20, 10_000)).toBe(100);
  });

  test('WallClockPacer maps simulated time to wall time by the speedup', async () => {
    let wall = 1_000;
    const pacer = new WallClockPacer(50_000, 10, () => wall);
    expect(pacer.wallTimeOf(50_000)).toBe(1_000);
    expect(pacer.wallTimeOf(60_000)).toBe(2_000);
    wall = 5_000;
    // Already past due: returns without waiting.
    await pacer.waitUntil(60_000);
    expect(() => new WallClockPacer(0, 0)).toThrow(RangeError);
  });
});
