// The SQL side of the shipment_state table (schemas/sql/shipment-state.sql): the column of each
// state field, the one-statement batched upsert that never lets an older version win, the
// conversion of a row back to the event shape, and which PostgreSQL errors are worth retrying.
import pg from 'pg';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import { quoteIdent } from '../../../schemas/platform-tables.ts';

type ColumnType = 'text' | 'double precision' | 'bigint' | 'timestamptz' | 'jsonb';

// `satisfies` makes the compiler fail when a field is added to the type but not here.
export const SHIPMENT_STATE_COLUMNS = {
  shipmentId: { column: 'shipment_id', type: 'text' },
  customerId: { column: 'customer_id', type: 'text' },
  originId: { column: 'origin_id', type: 'text' },
  destinationId: { column: 'destination_id', type: 'text' },
  status: { column: 'status', type: 'text' },
  promisedAt: { column: 'promised_at', type: 'timestamptz' },
  createdAt: { column: 'created_at', type: 'timestamptz' },
  updatedAt: { column: 'updated_at', type: 'timestamptz' },
  vehicleId: { column: 'vehicle_id', type: 'text' },
  lat: { column: 'lat', type: 'double precision' },
  lon: { column: 'lon', type: 'double precision' },
  positionTime: { column: 'position_time', type: 'timestamptz' },
  speedKmh: { column: 'speed_kmh', type: 'double precision' },
  fuelPct: { column: 'fuel_pct', type: 'double precision' },
  engineTempC: { column: 'engine_temp_c', type: 'double precision' },
  distanceTravelledKm: { column: 'distance_travelled_km', type: 'double precision' },
  distanceRemainingKm: { column: 'distance_remaining_km', type: 'double precision' },
  predictedArrival: { column: 'predicted_arrival', type: 'timestamptz' },
  predictionLow: { column: 'prediction_low', type: 'timestamptz' },
  predictionHigh: { column: 'prediction_high', type: 'timestamptz' },
  modelVersion: { column: 'model_version', type: 'text' },
  version: { column: 'version', type: 'bigint' },
  sourceOffsets: { column: 'source_offsets', type: 'jsonb' },
  sourceLsn: { column: 'source_lsn', type: 'bigint' },
  stateUpdatedAt: { column: 'state_updated_at', type: 'timestamptz' },
} as const satisfies Record<keyof UnifiedShipmentState, { column: string; type: ColumnType }>;

type Field = keyof typeof SHIPMENT_STATE_COLUMNS;
const FIELDS = Object.keys(SHIPMENT_STATE_COLUMNS) as Field[];

/**
 * INSERT … SELECT FROM unnest(one array per column) … ON CONFLICT DO UPDATE only when the
 * incoming version is higher. One statement per batch, so the batch's shipment ids must be
 * distinct (ON CONFLICT cannot touch a row twice); rowCount = rows inserted or replaced.
 */
export function buildUpsertSql(schema: string, table = 'shipment_state'): string {
  const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const columns = FIELDS.map((f) => SHIPMENT_STATE_COLUMNS[f].column);
  const arrays = FIELDS.map((f, i) => {
    const { type } = SHIPMENT_STATE_COLUMNS[f];
    return `$${i + 1}::${type}[]`;
  });
  const updates = columns
    .filter((c) => c !== 'shipment_id')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .concat('written_at = now()');
  return [
    `INSERT INTO ${target} AS t (${columns.join(', ')})`,
    `SELECT * FROM unnest(${arrays.join(', ')})`,
    `ON CONFLICT (shipment_id) DO UPDATE SET ${updates.join(', ')}`,
    'WHERE t.version < EXCLUDED.version',
  ].join('\n');
}

function toParam(type: ColumnType, value: unknown): unknown {
  if (value === null) return null;
  switch (type) {
    // ISO text keeps the millisecond exactly (a Date would go through the local time zone).
    case 'timestamptz':
      return new Date(value as number).toISOString();
    case 'jsonb':
      return JSON.stringify(value);
    case 'bigint':
      return (value as number).toString();
    default:
      return value;
  }
}

/** The upsert's parameters: one array per column, in the column order of buildUpsertSql. */
export function upsertParams(states: readonly UnifiedShipmentState[]): unknown[][] {
  return FIELDS.map((f) => {
    const { type } = SHIPMENT_STATE_COLUMNS[f];
    return states.map((s) => toParam(type, s[f]));
  });
}

/** A row as node-postgres returns it (timestamptz → Date, bigint → string, jsonb → object). */
export function rowToShipmentState(row: Readonly<Record<string, unknown>>): UnifiedShipmentState {
  const state: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const { column, type } = SHIPMENT_STATE_COLUMNS[f];
    const value = row[column];
    if (value === null || value === undefined) {
      state[f] = null;
    } else if (type === 'timestamptz') {
      state[f] = (value as Date).getTime();
    } else if (type === 'bigint') {
      state[f] = Number(value);
    } else {
      state[f] = value;
    }
  }
  return state as unknown as UnifiedShipmentState;
}

// SQLSTATE classes after which the same statement may succeed: connection exception (08),
// transaction rollback — serialization, deadlock (40), insufficient resources (53), operator
// intervention — shutdown, cancel (57), system error (58).
const RETRIABLE_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57', '58']);

/** Lost connections and transient server states are retriable; bad data and bad SQL are not. */
export function isRetriablePgError(err: unknown): boolean {
  // The server answered with a SQLSTATE; anything else (ECONNREFUSED, a reset, "Connection
  // terminated", a pool timeout) is the network or the driver and worth another try.
  if (err instanceof pg.DatabaseError) {
    return RETRIABLE_SQLSTATE_CLASSES.has((err.code ?? '').slice(0, 2));
  }
  return true;
}
