import type { ShipmentStatus, VehicleTelemetry } from '../schemas/types.ts';
import { NO_FAULTS, type FaultOptions } from './faults.ts';
import { MemoryShipmentStore, MemoryTelemetrySink } from './memory-ports.ts';
import { isAllowedTransition } from '../schemas/shipment-lifecycle.ts';
import { Simulation, SIMULATION_DEFAULTS, type SimulationOptions } from './simulation.ts';
import { FAULT_KINDS } from './statistics.ts';

// Small fleets and coarse telemetry: every run here takes well under a second.
const SMALL: SimulationOptions = {
  ...SIMULATION_DEFAULTS,
  seed: 42,
  vehicles: 6,
  customers: 20,
  shipments: 15,
  durationMs: 24 * 3_600_000,
  telemetryIntervalMs: 60_000,
};

async function simulate(options: SimulationOptions) {
  const store = new MemoryShipmentStore();
  const sink = new MemoryTelemetrySink();
  const result = await new Simulation(options, { store, sink }).run();
  return { store, sink, result };
}

describe('Simulation', () => {
  test('the same seed and options reproduce statistics, event ids and rows; another seed does not', async () => {
    const a = await simulate(SMALL);
    const b = await simulate(SMALL);
    const c = await simulate({ ...SMALL, seed: 43 });

    expect(b.result.statistics).toEqual(a.result.statistics);
    expect(b.sink.sent.slice(0, 100)).toEqual(a.sink.sent.slice(0, 100));
    expect(b.sink.sent.length).toBe(a.sink.sent.length);
    expect(b.result.shipments).toEqual(a.result.shipments);
    expect(b.result.groundTruth).toEqual(a.result.groundTruth);

    const idsA = a.sink.events.slice(0, 100).map((e) => e.eventId);
    const idsC = c.sink.events.slice(0, 100).map((e) => e.eventId);
    expect(idsC.filter((id) => idsA.includes(id))).toEqual([]);
    expect(c.result.shipments.map((s) => s.shipmentId)).not.toEqual(
      a.result.shipments.map((s) => s.shipmentId),
    );
    expect(c.result.statistics).not.toEqual(a.result.statistics);
  });

  test('fault rates do not change the world: shipments and their fates stay the same', async () => {
    const clean = await simulate({ ...SMALL, faults: NO_FAULTS });
    const faulty = await simulate({
      ...SMALL,
      faults: { ...NO_FAULTS, duplicate: 0.2, gpsJump: 0.2, malformed: 0.1 },
    });
    expect(faulty.result.shipments).toEqual(clean.result.shipments);
    expect(faulty.result.statistics.faults.duplicate).toBeGreaterThan(0);
  });

  test('every status change follows the transition table, in time order, with change_seq +1', async () => {
    const options = {
      ...SMALL,
      shipments: 30,
      cancelRate: 0.3,
      exceptionRate: 0.5,
      exceptionResumeRate: 0.5,
    };
    const { store, result } = await simulate(options);
    const seen = new Map<
      string,
      { status: ShipmentStatus; updatedAt: number; changeSeq: number }
    >();
    const transitions = new Set<string>();
    for (const batch of store.batches) {
      for (const w of batch) {
        if (w.op === 'ground-truth') continue;
        const s = w.shipment;
        const before = seen.get(s.shipmentId);
        if (w.op === 'insert') {
          expect(before).toBeUndefined();
          expect(s.status).toBe('CREATED');
          expect(s.changeSeq).toBe(1);
        } else {
          if (!before) throw new Error(`update before insert of ${s.shipmentId}`);
          expect(w.previousStatus).toBe(before.status);
          expect(isAllowedTransition(before.status, s.status)).toBe(true);
          expect(s.updatedAt).toBeGreaterThanOrEqual(before.updatedAt);
          expect(s.changeSeq).toBe(before.changeSeq + 1);
          transitions.add(`${before.status}>${s.status}`);
        }
        seen.set(s.shipmentId, {
          status: s.status,
          updatedAt: s.updatedAt,
          changeSeq: s.changeSeq,
        });
      }
    }
    expect(seen.size).toBe(options.shipments);
    // High cancel and exception rates take every branch the simulator knows.
    expect([...transitions].sort()).toEqual(
      expect.arrayContaining([
        'CREATED>ASSIGNED',
        'ASSIGNED>PICKED_UP',
        'PICKED_UP>IN_TRANSIT',
        'IN_TRANSIT>OUT_FOR_DELIVERY',
        'OUT_FOR_DELIVERY>DELIVERED',
        'IN_TRANSIT>EXCEPTION',
        'EXCEPTION>IN_TRANSIT',
        'EXCEPTION>CANCELLED',
      ]),
    );
    expect(
      [...transitions].some((t) => t === 'CREATED>CANCELLED' || t === 'ASSIGNED>CANCELLED'),
    ).toBe(true);
    expect(store.rows.size).toBe(result.shipments.length);
    for (const row of result.shipments) expect(store.rows.get(row.shipmentId)).toEqual(row);
  });

  test('ground truth: the arrival is the simulated DELIVERED time, recorded once per finished shipment', async () => {
    const { store, result } = await simulate({ ...SMALL, exceptionRate: 0.3 });
    const delivered = new Map<string, number>();
    const pickedUp = new Map<string, number>();
    for (const w of store.batches.flat()) {
      if (w.op !== 'update') continue;
      if (w.shipment.status === 'DELIVERED')
        delivered.set(w.shipment.shipmentId, w.shipment.updatedAt);
      if (w.shipment.status === 'PICKED_UP')
        pickedUp.set(w.shipment.shipmentId, w.shipment.updatedAt);
    }
    expect(delivered.size).toBeGreaterThan(0);
    const finished = result.shipments.filter(
      (s) => s.status === 'DELIVERED' || s.status === 'CANCELLED',
    );
    expect(result.groundTruth.map((t) => t.shipmentId).sort()).toEqual(
      finished.map((s) => s.shipmentId).sort(),
    );
    expect([...store.groundTruth.values()]).toEqual(expect.arrayContaining(result.groundTruth));
    for (const truth of result.groundTruth) {
      if (truth.finalStatus === 'DELIVERED') {
        expect(truth.arrivedAt).toBe(delivered.get(truth.shipmentId));
        expect(truth.pickedUpAt).toBe(pickedUp.get(truth.shipmentId));
        expect(truth.arrivedAt ?? 0).toBeGreaterThan(truth.pickedUpAt ?? Infinity);
        expect(truth.routeKm ?? 0).toBeGreaterThan(0);
      } else {
        expect(truth.arrivedAt).toBeNull();
        expect(delivered.has(truth.shipmentId)).toBe(false);
      }
    }
  });

  test('bounded runs stop once every shipment is finished; the fleet keeps reporting until then', async () => {
    const { result, sink } = await simulate({ ...SMALL, faults: NO_FAULTS });
    const s = result.statistics;
    expect(s.shipmentsInFlight).toBe(0);
    expect(s.changesByStatus.DELIVERED + s.changesByStatus.CANCELLED).toBe(SMALL.shipments);
    expect(s.simulatedMs).toBeLessThan(SMALL.durationMs);
    const ticks = s.simulatedMs / SMALL.telemetryIntervalMs;
    expect(s.telemetryReadings).toBe(ticks * SMALL.vehicles);
    expect(sink.events).toHaveLength(s.telemetryReadings);
  });

  test('a run cut short by its duration reports the unfinished shipments as in flight, without ground truth', async () => {
    const { result } = await simulate({ ...SMALL, durationMs: 3 * 3_600_000 });
    const unfinished = result.shipments.filter(
      (s) => s.status !== 'DELIVERED' && s.status !== 'CANCELLED',
    );
    expect(unfinished.length).toBeGreaterThan(0);
    expect(result.statistics.shipmentsInFlight).toBe(unfinished.length);
    expect(result.statistics.simulatedMs).toBe(3 * 3_600_000);
    expect(result.groundTruth).toHaveLength(result.shipments.length - unfinished.length);
  });

  test('without faults readings are physically plausible: fuel in [0, 100], speeds legal, in order', async () => {
    const { sink } = await simulate({
      ...SMALL,
      shipments: 40,
      durationMs: 48 * 3_600_000,
      faults: NO_FAULTS,
    });
    const byVehicle = new Map<string, VehicleTelemetry[]>();
    for (const e of sink.events) {
      const list = byVehicle.get(e.vehicleId) ?? [];
      list.push(e);
      byVehicle.set(e.vehicleId, list);
    }
    expect(byVehicle.size).toBe(SMALL.vehicles);
    // One assertion over all readings: thousands of expect() calls would dominate the run time.
    const problems: string[] = [];
    let moving = 0;
    for (const readings of byVehicle.values()) {
      for (let i = 0; i < readings.length; i++) {
        const r = readings[i] as VehicleTelemetry;
        const where = `${r.vehicleId}@${r.eventTime}`;
        if (!(r.fuelPct >= 0 && r.fuelPct <= 100)) problems.push(`${where} fuel ${r.fuelPct}`);
        if (!(r.speed >= 0 && r.speed <= 130)) problems.push(`${where} speed ${r.speed}`);
        if (!(r.engineTemp >= 0 && r.engineTemp < 110))
          problems.push(`${where} temp ${r.engineTemp}`);
        if (r.speedUnit !== 'KMH' || r.temperatureUnit !== 'CELSIUS')
          problems.push(`${where} units`);
        if (r.speed > 0) moving += 1;
        const prev = readings[i - 1];
        if (prev && r.eventTime - prev.eventTime !== SMALL.telemetryIntervalMs)
          problems.push(`${where} follows ${prev.eventTime}`);
        if (prev && r.odometerKm < prev.odometerKm) problems.push(`${where} odometer went back`);
      }
    }
    expect(problems).toEqual([]);
    expect(moving).toBeGreaterThan(0);
  });

  test('vehicles refuel when low and fuel never goes negative on long runs', async () => {
    const { result, sink } = await simulate({
      ...SMALL,
      vehicles: 3,
      shipments: 60,
      durationMs: 7 * 24 * 3_600_000,
      telemetryIntervalMs: 120_000,
      faults: NO_FAULTS,
    });
    expect(result.statistics.refuels).toBeGreaterThan(0);
    expect(Math.min(...sink.events.map((e) => e.fuelPct))).toBeGreaterThanOrEqual(0);
  });

  test('fault counts match their rates within 5 binomial standard deviations, and the stream shows them', async () => {
    const rates: FaultOptions = {
      duplicate: 0.05,
      outOfOrder: 0.04,
      late: 0.02,
      gpsJump: 0.03,
      impossibleValue: 0.03,
      mph: 0.1,
      fahrenheit: 0.1,
      malformed: 0.02,
      lateDelayMs: 10 * 60_000,
    };
    const options = {
      ...SMALL,
      vehicles: 10,
      stopWhenDone: false,
      durationMs: 12 * 3_600_000,
      faults: rates,
    };
    const { result, sink } = await simulate(options);
    const s = result.statistics;
    const n = s.telemetryReadings;
    expect(n).toBe(10 * 12 * 60);
    const expectWithin = (count: number, p: number): void => {
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(count - n * p)).toBeLessThanOrEqual(5 * sd);
    };
    expectWithin(s.faults.duplicate, rates.duplicate);
    expectWithin(s.faults['out-of-order'], rates.outOfOrder);
    expectWithin(s.faults.late, rates.late);
    expectWithin(s.faults['gps-jump'], rates.gpsJump);
    expectWithin(s.faults['impossible-value'], rates.impossibleValue);
    expectWithin(s.faults['unit-mph'], rates.mph);
    expectWithin(s.faults['unit-fahrenheit'], rates.fahrenheit);
    expectWithin(
      s.faults['malformed-random-bytes'] +
        s.faults['malformed-bad-magic'] +
        s.faults['malformed-truncated'],
      rates.malformed,
    );
    // No encoder was given, so no truncated records: the other two kinds share the malformed ones.
    expect(s.faults['malformed-truncated']).toBe(0);
    expect(s.faults['malformed-bad-magic']).toBeGreaterThan(0);

    // What the counters claim is what the sink received.
    const firsts = new Map<string, VehicleTelemetry>();
    for (const e of sink.events) if (!firsts.has(e.eventId)) firsts.set(e.eventId, e);
    const unique = [...firsts.values()];
    expect(unique).toHaveLength(n);
    expect(sink.events.length - n).toBe(s.faults.duplicate);
    expect(s.telemetrySent).toBe(sink.events.length);
    expect(sink.sent.filter((r) => r.kind === 'raw')).toHaveLength(s.rawSent);
    expect(s.rawSent).toBe(
      s.faults['malformed-random-bytes'] +
        s.faults['malformed-bad-magic'] +
        s.faults['malformed-truncated'],
    );
    expect(unique.filter((e) => e.speedUnit === 'MPH')).toHaveLength(s.faults['unit-mph']);
    expect(unique.filter((e) => e.temperatureUnit === 'FAHRENHEIT')).toHaveLength(
      s.faults['unit-fahrenheit'],
    );
    const impossible = unique.filter(
      (e) => e.fuelPct === 140 || e.speed === -5 || e.engineTemp === 400 || e.engineTemp === 752,
    );
    expect(impossible).toHaveLength(s.faults['impossible-value']);
    // A held-back reading is overtaken by a later one of its vehicle (except at the very end).
    const newest = new Map<string, number>();
    let overtaken = 0;
    const counted = new Set<string>();
    for (const e of sink.events) {
      if (counted.has(e.eventId)) continue;
      counted.add(e.eventId);
      if (e.eventTime < (newest.get(e.vehicleId) ?? -Infinity)) overtaken += 1;
      newest.set(e.vehicleId, Math.max(e.eventTime, newest.get(e.vehicleId) ?? -Infinity));
    }
    const held = s.faults['out-of-order'] + s.faults.late;
    expect(overtaken).toBeLessThanOrEqual(held);
    expect(overtaken).toBeGreaterThanOrEqual(held - options.vehicles * 12);
    expect(FAULT_KINDS.reduce((sum, k) => sum + s.faults[k], 0)).toBeGreaterThan(0);
  });

  test('a truncated record is a real encoding cut short, sent raw when an encoder is given', async () => {
    const store = new MemoryShipmentStore();
    const sink = new MemoryTelemetrySink();
    const encoded: Buffer[] = [];
    const encode = (e: VehicleTelemetry): Promise<Buffer> => {
      const b = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from(JSON.stringify(e))]);
      encoded.push(b);
      return Promise.resolve(b);
    };
    const result = await new Simulation(
      { ...SMALL, faults: { ...NO_FAULTS, malformed: 0.2 } },
      { store, sink, encode },
    ).run();
    const truncated = result.statistics.faults['malformed-truncated'];
    expect(truncated).toBeGreaterThan(0);
    expect(encoded).toHaveLength(truncated);
    const raw = sink.sent.flatMap((r) => (r.kind === 'raw' ? [r.value] : []));
    const cut = raw.filter((v) =>
      encoded.some((full) => v.length < full.length && full.subarray(0, v.length).equals(v)),
    );
    expect(cut).toHaveLength(truncated);
    for (const v of cut) expect(v.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 7]));
  });

  test('rejects invalid options with every problem named', () => {
    const sink = new MemoryTelemetrySink();
    const store = new MemoryShipmentStore();
    expect(
      () =>
        new Simulation(
          { ...SMALL, seed: -1, telemetryIntervalMs: 10, faults: { ...NO_FAULTS, duplicate: 2 } },
          { store, sink },
        ),
    ).toThrow(/seed must be.*telemetry interval.*fault rate duplicate/);
  });

  test('a store failure stops the run with the store error', async () => {
    const sink = new MemoryTelemetrySink();
    const failing = { write: () => Promise.reject(new Error('disk full')) };
    await expect(new Simulation(SMALL, { store: failing, sink }).run()).rejects.toThrow(
      'disk full',
    );
  });
});
