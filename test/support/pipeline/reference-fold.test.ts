// The offline fold on hand-made inputs: it must be right on its own before it judges the pipeline.
import type {
  Shipment,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../../schemas/types.ts';
import {
  diffShipmentState,
  foldPipeline,
  foldShipments,
  foldTelemetry,
  type CleanReading,
  type InputRecord,
  type ShipmentExpectation,
} from './reference-fold.ts';

const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);

function reading(n: number, patch: Partial<VehicleTelemetry> = {}): VehicleTelemetry {
  return {
    eventId: `ev-${n}`,
    vehicleId: 'VEH-1',
    eventTime: T0 + n * 10_000,
    lat: 50 + n * 0.001,
    lon: 8,
    speed: 36,
    speedUnit: 'KMH',
    headingDeg: 0,
    fuelPct: 50,
    engineTemp: 80,
    temperatureUnit: 'CELSIUS',
    odometerKm: 1_000 + n * 0.1,
    ...patch,
  };
}

function records<T>(values: (T | undefined)[], key: (v: T) => string | null): InputRecord<T>[] {
  return values.map((value, offset) => ({
    partition: 0,
    offset,
    timestamp: 0,
    key: value === undefined ? 'x' : key(value),
    value,
  }));
}

const telemetry = (values: (VehicleTelemetry | undefined)[]): InputRecord<VehicleTelemetry>[] =>
  records(values, (v) => v.vehicleId);

function row(
  status: Shipment['status'],
  changeSeq: number,
  vehicleId: string | null = null,
): Shipment {
  return {
    shipmentId: 'SHP-1',
    customerId: 'CUS-1',
    originId: 'DEPOT-1',
    originLat: 50,
    originLon: 8,
    destinationId: 'SITE-1',
    destinationLat: 50.5,
    destinationLon: 8.5,
    vehicleId,
    status,
    weightKg: 10,
    promisedAt: T0 + 86_400_000,
    createdAt: T0,
    updatedAt: T0 + changeSeq * 60_000,
    changeSeq,
  };
}

function change(before: Shipment | null, after: Shipment, lsn: number): ShipmentChange {
  return {
    op: before ? 'UPDATE' : 'INSERT',
    before,
    after,
    source: { lsn, commitLsn: lsn, txId: lsn, table: 'shipments', snapshot: false },
    commitTime: T0,
  };
}

const changes = (values: (ShipmentChange | undefined)[]): InputRecord<ShipmentChange>[] =>
  records(values, (v) => (v.after ?? v.before)?.shipmentId ?? null);

const ids = (list: readonly CleanReading[] | undefined): string[] =>
  (list ?? []).map((c) => c.reading.eventId);

describe('foldTelemetry', () => {
  it('releases readings in event-time order a grace period behind the watermark, and the rest when the input ends', () => {
    const input = [
      reading(1),
      reading(3),
      reading(2),
      ...Array.from({ length: 8 }, (_, i) => reading(i + 4)),
    ];
    const fold = foldTelemetry(telemetry(input));
    expect(ids(fold.clean.get('VEH-1'))).toEqual(
      Array.from({ length: 11 }, (_, i) => `ev-${i + 1}`),
    );
    // Each clean reading names the raw record it came from.
    expect(fold.clean.get('VEH-1')?.[1]).toMatchObject({ partition: 0, offset: 2 });
    expect(fold.partitionOf.get('VEH-1')).toBe(0);
  });

  it('drops duplicates, normalizes units and dead-letters the undecodable, the impossible and the future', () => {
    const now = T0 + 3_600_000;
    const input = [
      reading(1, { speed: 10, speedUnit: 'MPH', engineTemp: 212, temperatureUnit: 'FAHRENHEIT' }),
      reading(1),
      undefined,
      reading(2, { fuelPct: 140 }),
      reading(3, { eventTime: -1 }),
      { ...reading(4), vehicleId: 'VEH-2' },
      reading(5, { eventTime: now + 6 * 60_000 }),
      ...Array.from({ length: 7 }, (_, i) => reading(i + 5)),
    ];
    const records_ = telemetry(input);
    (records_[5] as InputRecord<VehicleTelemetry>).key = 'VEH-1';
    const fold = foldTelemetry(records_, undefined, now);
    expect(fold.duplicates).toBe(1);
    expect(fold.clean.get('VEH-1')?.[0]?.reading).toMatchObject({
      speed: 16.09,
      speedUnit: 'KMH',
      engineTemp: 100,
      temperatureUnit: 'CELSIUS',
    });
    expect(fold.rejected).toEqual([
      { partition: 0, offset: 2, stage: 'deserialize' },
      { partition: 0, offset: 3, stage: 'process', reason: 'impossible-value' },
      { partition: 0, offset: 4, stage: 'extract-timestamp', reason: 'invalid-timestamp' },
      { partition: 0, offset: 5, stage: 'process', reason: 'key-mismatch' },
      { partition: 0, offset: 6, stage: 'extract-timestamp', reason: 'future' },
    ]);
  });

  it('dead-letters a reading older than one already released, and a GPS jump', () => {
    const input = [
      ...Array.from({ length: 10 }, (_, i) => reading(i + 1)),
      reading(11, { lat: 51 }), // 110 km in 10 s
      reading(3.5), // behind ev-4, which went out
    ];
    const fold = foldTelemetry(telemetry(input));
    expect(fold.rejected).toEqual([
      { partition: 0, offset: 10, stage: 'process', reason: 'gps-jump' },
      { partition: 0, offset: 11, stage: 'process', reason: 'late' },
    ]);
  });

  it('releases every vehicle on every reading: a quiet vehicle’s reading long behind the watermark is accepted', () => {
    // ev-2 arrives 90 s behind the watermark, but nothing of VEH-1 after it went out: accepted.
    const input = [reading(1), { ...reading(11), vehicleId: 'VEH-2' }, reading(2)];
    const fold = foldTelemetry(records(input, (v) => v.vehicleId));
    expect(ids(fold.clean.get('VEH-1'))).toEqual(['ev-1', 'ev-2']);
    expect(fold.rejected).toEqual([]);
  });
});

describe('foldShipments', () => {
  it('keeps the last valid change, drops redeliveries and dead-letters forbidden transitions', () => {
    const c1 = change(null, row('CREATED', 1), 10);
    const c2 = change(row('CREATED', 1), row('ASSIGNED', 2, 'VEH-1'), 20);
    const bad = change(row('ASSIGNED', 2, 'VEH-1'), row('DELIVERED', 3, 'VEH-1'), 30);
    const c4 = change(row('ASSIGNED', 2, 'VEH-1'), row('CANCELLED', 4, 'VEH-1'), 40);
    const fold = foldShipments(changes([c1, c2, c2, bad, c4]));
    expect(fold.duplicates).toBe(1);
    expect(fold.rejected).toEqual([
      { partition: 0, offset: 3, stage: 'process', reason: 'impossible-transition' },
    ]);
    // A rejected change still moves the position: the next is judged from ASSIGNED and seq 3.
    expect(fold.last.get('SHP-1')?.change.after?.status).toBe('CANCELLED');
    expect(fold.last.get('SHP-1')?.timestamp).toBe(T0 + 4 * 60_000);
    expect(fold.valid.get('SHP-1')?.map((c) => c.change.after?.status)).toEqual([
      'CREATED',
      'ASSIGNED',
      'CANCELLED',
    ]);
  });
});

describe('foldPipeline', () => {
  const topics = { shipmentsCdc: 'cdc', telemetryRaw: 'raw' };
  const lifecycle = (final: 'IN_TRANSIT' | 'DELIVERED') => {
    const list = [
      change(null, row('CREATED', 1), 10),
      change(row('CREATED', 1), row('ASSIGNED', 2, 'VEH-1'), 20),
      change(row('ASSIGNED', 2, 'VEH-1'), row('PICKED_UP', 3, 'VEH-1'), 30),
      change(row('PICKED_UP', 3, 'VEH-1'), row('IN_TRANSIT', 4, 'VEH-1'), 40),
    ];
    if (final === 'DELIVERED')
      list.push(
        change(row('IN_TRANSIT', 4, 'VEH-1'), row('OUT_FOR_DELIVERY', 5, 'VEH-1'), 50),
        change(row('OUT_FOR_DELIVERY', 5, 'VEH-1'), row('DELIVERED', 6, 'VEH-1'), 60),
      );
    return changes(list);
  };
  // A reading every 10 s for 12 minutes.
  const input = telemetry(Array.from({ length: 72 }, (_, i) => reading(i + 1)));

  it('expects an active shipment at its vehicle’s last reading, odometer at pickup from the reading before it', () => {
    const fold = foldPipeline(lifecycle('IN_TRANSIT'), input, topics);
    const state = fold.expected.get('SHP-1')?.state as UnifiedShipmentState;
    const last = reading(72);
    expect(state).toMatchObject({
      status: 'IN_TRANSIT',
      positionTime: last.eventTime,
      // Picked up at +3 min: the reading at +180 s (ev-18) is the last at or before it.
      distanceTravelledKm: Math.round((last.odometerKm - reading(18).odometerKm) * 1000) / 1000,
      version: 4 * 2 ** 43 + last.eventTime,
      stateUpdatedAt: last.eventTime,
      sourceOffsets: { 'cdc-0': 3, 'raw-0': 71 },
    });
  });

  it('expects a delivered shipment at its last reading before delivery, with checkpoints every interval since pickup', () => {
    const fold = foldPipeline(lifecycle('DELIVERED'), input, topics);
    const state = fold.expected.get('SHP-1')?.state as UnifiedShipmentState;
    // Delivered at +6 min: ev-36.
    expect(state.positionTime).toBe(reading(36).eventTime);
    expect(fold.delivered).toEqual(['SHP-1']);
    const example = fold.examples.get('SHP-1');
    // Pickup +3 min, interval 5 min, arrival +6 min: one checkpoint, at pickup.
    expect(example?.checkpoints.map((c) => [c.checkpointTime, c.minutesToArrival])).toEqual([
      [reading(18).eventTime, 3],
    ]);
  });

  it('expects no example, and says why, for a delivery without readings on its trip', () => {
    const fold = foldPipeline(lifecycle('DELIVERED'), telemetry([reading(1)]), topics);
    expect(fold.examples.size).toBe(0);
    expect(fold.skipped.get('SHP-1')).toBe('no-readings');
  });
});

describe('diffShipmentState', () => {
  it('names the shipment and every field that differs', () => {
    const fold = foldPipeline(changes([change(null, row('CREATED', 1), 10)]), telemetry([]), {
      shipmentsCdc: 'cdc',
      telemetryRaw: 'raw',
    });
    const expectation = fold.expected.get('SHP-1') as ShipmentExpectation;
    expect(diffShipmentState(expectation, expectation.state)).toEqual([]);
    expect(
      diffShipmentState(expectation, { ...expectation.state, fuelPct: 49, version: 1 }),
    ).toEqual([
      'SHP-1.fuelPct: expected null, got 49',
      `SHP-1.version: expected ${2 ** 43}, got 1`,
    ]);
  });
});
