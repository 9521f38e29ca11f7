// How a UnifiedShipmentState lives in Redis: the key layout and the hash encoding, shared by the
// sink and the reader. Every field is a string (numbers as JS writes them, which parse back to
// the same double; sourceOffsets as JSON); a null field is absent from the hash, not empty, so
// an empty string stays a real value.
import { DecodeError } from '../../../core/errors.ts';
import {
  SHIPMENT_STATUSES,
  type ShipmentStatus,
  type UnifiedShipmentState,
} from '../../../schemas/types.ts';

export interface ShipmentStateKeys {
  /** One hash per shipment: `<hashPrefix><shipmentId>`. */
  hashPrefix: string;
  /** GEO index of the shipments on the way that have a position (member = shipment id). */
  geoKey: string;
  /** One set per status: `<statusPrefix><STATUS>` holds the ids of the shipments in it. */
  statusPrefix: string;
}

export const DEFAULT_SHIPMENT_STATE_KEYS: Readonly<ShipmentStateKeys> = Object.freeze({
  hashPrefix: 'shipment:',
  geoKey: 'shipments:geo',
  statusPrefix: 'shipments:status:',
});

/** The default layout under a namespace, e.g. `test-abc:` → `test-abc:shipment:{id}`. */
export function shipmentStateKeys(namespace = ''): ShipmentStateKeys {
  return {
    hashPrefix: `${namespace}${DEFAULT_SHIPMENT_STATE_KEYS.hashPrefix}`,
    geoKey: `${namespace}${DEFAULT_SHIPMENT_STATE_KEYS.geoKey}`,
    statusPrefix: `${namespace}${DEFAULT_SHIPMENT_STATE_KEYS.statusPrefix}`,
  };
}

export function shipmentHashKey(keys: ShipmentStateKeys, shipmentId: string): string {
  return `${keys.hashPrefix}${shipmentId}`;
}

export function statusSetKey(keys: ShipmentStateKeys, status: ShipmentStatus): string {
  return `${keys.statusPrefix}${status}`;
}

type FieldKind = 'string' | 'nullableString' | 'number' | 'nullableNumber' | 'status' | 'offsets';

// `satisfies` makes the compiler fail when a field is added to the type but not here.
const FIELD_KINDS = {
  shipmentId: 'string',
  customerId: 'string',
  originId: 'string',
  destinationId: 'string',
  status: 'status',
  promisedAt: 'number',
  createdAt: 'number',
  updatedAt: 'number',
  vehicleId: 'nullableString',
  lat: 'nullableNumber',
  lon: 'nullableNumber',
  positionTime: 'nullableNumber',
  speedKmh: 'nullableNumber',
  fuelPct: 'nullableNumber',
  engineTempC: 'nullableNumber',
  distanceTravelledKm: 'number',
  distanceRemainingKm: 'number',
  predictedArrival: 'nullableNumber',
  predictionLow: 'nullableNumber',
  predictionHigh: 'nullableNumber',
  modelVersion: 'nullableString',
  version: 'number',
  sourceOffsets: 'offsets',
  sourceLsn: 'number',
  stateUpdatedAt: 'number',
} as const satisfies Record<keyof UnifiedShipmentState, FieldKind>;

type Field = keyof typeof FIELD_KINDS;
const FIELDS = Object.keys(FIELD_KINDS) as Field[];

/** The hash of a state: field → string, null fields left out. */
export function encodeShipmentHash(state: UnifiedShipmentState): Record<string, string> {
  const hash: Record<string, string> = {};
  for (const field of FIELDS) {
    const value = state[field];
    if (value === null) continue;
    hash[field] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return hash;
}

function parseNumber(field: string, text: string): number {
  const value = Number(text);
  // Number('') is 0 and Number('x') is NaN; only a written number (or NaN itself) is one.
  if (text.trim() === '' || (Number.isNaN(value) && text !== 'NaN')) {
    throw new DecodeError('shipment hash field is not a number', { context: { field, text } });
  }
  return value;
}

function parseOffsets(text: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new DecodeError('shipment hash sourceOffsets is not JSON', { cause, context: { text } });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DecodeError('shipment hash sourceOffsets is not an object', { context: { text } });
  }
  for (const value of Object.values(parsed)) {
    if (typeof value !== 'number') {
      throw new DecodeError('shipment hash sourceOffsets holds a non-number', {
        context: { text },
      });
    }
  }
  return parsed as Record<string, number>;
}

function parseStatus(text: string): ShipmentStatus {
  const status = SHIPMENT_STATUSES.find((s) => s === text);
  if (status === undefined) {
    throw new DecodeError('shipment hash status is not a shipment status', { context: { text } });
  }
  return status;
}

/** The exact inverse of encodeShipmentHash; throws a DecodeError on a missing or bad field. */
export function decodeShipmentHash(hash: Readonly<Record<string, string>>): UnifiedShipmentState {
  const state: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const kind: FieldKind = FIELD_KINDS[field];
    const text = hash[field];
    if (text === undefined) {
      if (kind === 'nullableString' || kind === 'nullableNumber') {
        state[field] = null;
        continue;
      }
      throw new DecodeError('shipment hash misses a field', {
        context: { field, shipmentId: hash.shipmentId },
      });
    }
    switch (kind) {
      case 'string':
      case 'nullableString':
        state[field] = text;
        break;
      case 'number':
      case 'nullableNumber':
        state[field] = parseNumber(field, text);
        break;
      case 'status':
        state[field] = parseStatus(text);
        break;
      case 'offsets':
        state[field] = parseOffsets(text);
        break;
    }
  }
  return state as unknown as UnifiedShipmentState;
}

// Redis GEO accepts latitudes only within the Web-Mercator band; outside it GEOADD fails.
const MAX_GEO_LAT = 85.05112878;
const TERMINAL: ReadonlySet<ShipmentStatus> = new Set(['DELIVERED', 'CANCELLED']);

/** Where the shipment belongs in the GEO index, or null when it must not be there. */
export function geoPositionOf(state: UnifiedShipmentState): { lon: number; lat: number } | null {
  const { lon, lat } = state;
  if (TERMINAL.has(state.status) || lon === null || lat === null) return null;
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  if (Math.abs(lat) > MAX_GEO_LAT || Math.abs(lon) > 180) return null;
  return { lon, lat };
}
