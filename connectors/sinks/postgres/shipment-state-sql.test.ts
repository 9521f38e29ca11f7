import pg from 'pg';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import {
  SHIPMENT_STATE_COLUMNS,
  buildUpsertSql,
  isRetriablePgError,
  rowToShipmentState,
  upsertParams,
} from './shipment-state-sql.ts';

const T0 = Date.UTC(2026, 10, 25, 13, 0, 0, 123);

function state(overrides: Partial<UnifiedShipmentState> = {}): UnifiedShipmentState {
  return {
    shipmentId: 'SHP-1',
    customerId: 'CUS-1',
    originId: 'DEPOT-1',
    destinationId: 'CITY-1',
    status: 'IN_TRANSIT',
    promisedAt: T0 + 1,
    createdAt: T0,
    updatedAt: T0 + 2,
    vehicleId: 'VEH-1',
    lat: 48.1,
    lon: 11.5,
    positionTime: T0 + 3,
    speedKmh: 40.25,
    fuelPct: 50,
    engineTempC: 90,
    distanceTravelledKm: 10,
    distanceRemainingKm: 2,
    predictedArrival: null,
    predictionLow: null,
    predictionHigh: null,
    modelVersion: null,
    version: 8,
    sourceOffsets: { 'a-0': 1 },
    sourceLsn: 42,
    stateUpdatedAt: T0 + 4,
    ...overrides,
  };
}

describe('buildUpsertSql', () => {
  const sql = buildUpsertSql('test_"x');

  it('inserts from one typed array per column into the quoted schema', () => {
    expect(sql).toContain('INSERT INTO "test_""x"."shipment_state" AS t (shipment_id, ');
    const arrays = sql.match(/\$\d+::[a-z ]+\[\]/g) ?? [];
    expect(arrays).toHaveLength(Object.keys(SHIPMENT_STATE_COLUMNS).length);
    expect(arrays[0]).toBe('$1::text[]');
    expect(sql).toContain('::timestamptz[]');
    expect(sql).toContain('::jsonb[]');
  });

  it('replaces a row only with a higher version and never rewrites the key', () => {
    expect(sql).toMatch(/ON CONFLICT \(shipment_id\) DO UPDATE SET /);
    expect(sql).toMatch(/WHERE t\.version < EXCLUDED\.version$/);
    expect(sql).not.toContain('shipment_id = EXCLUDED.shipment_id');
    expect(sql).toContain('version = EXCLUDED.version');
  });
});

describe('upsertParams and rowToShipmentState', () => {
  it('makes one array per column, in column order, with one entry per state', () => {
    const params = upsertParams([state(), state({ shipmentId: 'SHP-2', lat: null })]);
    const fields = Object.keys(SHIPMENT_STATE_COLUMNS);
    expect(params).toHaveLength(fields.length);
    expect(params[fields.indexOf('shipmentId')]).toEqual(['SHP-1', 'SHP-2']);
    expect(params[fields.indexOf('lat')]).toEqual([48.1, null]);
    expect(params[fields.indexOf('createdAt')]).toEqual([
      '2026-11-25T13:00:00.123Z',
      '2026-11-25T13:00:00.123Z',
    ]);
    expect(params[fields.indexOf('version')]).toEqual(['8', '8']);
    expect(params[fields.indexOf('sourceOffsets')]).toEqual(['{"a-0":1}', '{"a-0":1}']);
  });

  it('turns a row as node-postgres returns it back into the state', () => {
    const s = state();
    const row: Record<string, unknown> = { written_at: new Date() };
    for (const [field, { column, type }] of Object.entries(SHIPMENT_STATE_COLUMNS)) {
      const value = s[field as keyof UnifiedShipmentState];
      if (value === null) row[column] = null;
      else if (type === 'timestamptz') row[column] = new Date(value as number);
      else if (type === 'bigint') row[column] = (value as number).toString();
      else row[column] = value;
    }
    expect(rowToShipmentState(row)).toEqual(s);
  });

  it('fails on a timestamp a Date cannot hold', () => {
    expect(() => upsertParams([state({ promisedAt: 9e15 })])).toThrow(RangeError);
  });
});

describe('isRetriablePgError', () => {
  function dbError(code: string): pg.DatabaseError {
    const err = new pg.DatabaseError('server said no', 0, 'error');
    err.code = code;
    return err;
  }

  it('retries lost connections and transient server states', () => {
    expect(
      isRetriablePgError(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe(true);
    expect(isRetriablePgError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(
      true,
    );
    expect(isRetriablePgError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isRetriablePgError(dbError('57P01'))).toBe(true); // admin_shutdown
    expect(isRetriablePgError(dbError('40P01'))).toBe(true); // deadlock_detected
    expect(isRetriablePgError(dbError('08006'))).toBe(true); // connection_failure
  });

  it('does not retry bad data or bad SQL', () => {
    expect(isRetriablePgError(dbError('23514'))).toBe(false); // check_violation
    expect(isRetriablePgError(dbError('22P02'))).toBe(false); // invalid_text_representation
    expect(isRetriablePgError(dbError('42P01'))).toBe(false); // undefined_table
  });
});
