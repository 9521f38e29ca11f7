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
  FoldScopeError,
  joinedState,
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

describe('foldTelemetry', () => {
  it('releases readings in event-time order once the watermark is a grace period past them', () => {
    const input = [
      reading(1),
      reading(3),
      reading(2),
      ...Array.from({ length: 8 }, (_, i) => reading(i + 4)),
    ];
    const fold = foldTelemetry(telemetry(input));
    // Watermark 11 × 10 s: everything up to 5 is 60 s behind it.
    expect(fold.clean.get('VEH-1')?.map((r) => r.eventId)).toEqual([
      'ev-1',
      'ev-2',
      'ev-3',
      'ev-4',
      'ev-5',
    ]);
    expect(fold.held.get('VEH-1')?.map((r) => r.eventId)).toEqual([
      'ev-6',
      'ev-7',
      'ev-8',
      'ev-9',
      'ev-10',
      'ev-11',
    ]);
  });

  it('drops duplicates, normalizes units and dead-letters the undecodable and the impossible', () => {
    const input = [
      reading(1, { speed: 10, speedUnit: 'MPH', engineTemp: 212, temperatureUnit: 'FAHRENHEIT' }),
      reading(1),
      undefined,
      reading(2, { fuelPct: 140 }),
      reading(3, { eventTime: -1 }),
      { ...reading(4), vehicleId: 'VEH-2' },
      ...Array.from({ length: 7 }, (_, i) => reading(i + 5)),
    ];
    const records_ = telemetry(input);
    (records_[5] as InputRecord<VehicleTelemetry>).key = 'VEH-1';
    const fold = foldTelemetry(records_);
    expect(fold.duplicates).toBe(1);
    expect(fold.clean.get('VEH-1')?.[0]).toMatchObject({
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

  it('refuses inputs whose outcome depends on when the sweep ran', () => {
    // ev-2 arrives 90 s behind the watermark but after nothing of its vehicle was released.
    const input = [reading(1), { ...reading(11), vehicleId: 'VEH-2' }, reading(2)];
    expect(() => foldTelemetry(records(input, (v) => v.vehicleId))).toThrow(FoldScopeError);
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
  });
});

describe('diffShipmentState', () => {
  const picked = change(row('ASSIGNED', 2, 'VEH-1'), row('PICKED_UP', 3, 'VEH-1'), 30);
  const input = Array.from({ length: 12 }, (_, i) => reading(i + 1));
  const fold = foldPipeline(
    changes([
      change(null, row('CREATED', 1), 10),
      change(row('CREATED', 1), row('ASSIGNED', 2, 'VEH-1'), 20),
      picked,
    ]),
    telemetry(input),
  );
  const expectation = fold.expected.get('SHP-1') as ShipmentExpectation;
  const readings = fold.telemetry.clean.get('VEH-1') ?? [];
  const last = readings.at(-1) as VehicleTelemetry;
  const context = { shipmentsCdcTopic: 'cdc', telemetryCleanTopic: 'clean' };
  const actual: UnifiedShipmentState = {
    ...joinedState(expectation.last, last, readings[0]?.odometerKm ?? null),
    version: 3_000_002,
    stateUpdatedAt: last.eventTime,
    sourceOffsets: { 'cdc-0': 2, 'clean-0': 7 },
  };

  it("admits an active shipment carrying its vehicle's last reading, whatever the join order", () => {
    expect(expectation.reading).toBe('last');
    expect(diffShipmentState(expectation, actual, context)).toEqual([]);
  });

  it('names the shipment and field that differ', () => {
    expect(diffShipmentState(expectation, { ...actual, fuelPct: 49 }, context)).toEqual([
      'SHP-1.fuelPct: expected 50, got 49',
    ]);
    const older = readings[0] as VehicleTelemetry;
    expect(
      diffShipmentState(
        expectation,
        { ...actual, positionTime: older.eventTime, lat: older.lat },
        context,
      )[0],
    ).toMatch(/^SHP-1\.positionTime: expected the vehicle's last clean reading/);
    expect(diffShipmentState(expectation, { ...actual, version: 3_000_000 }, context)).toEqual([
      `SHP-1.version/stateUpdatedAt: expected 3000000/${T0 + 180_000} or (3000000, 3000006]/${last.eventTime}, got 3000000/${last.eventTime}`,
    ]);
  });
});
