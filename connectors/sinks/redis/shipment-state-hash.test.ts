import { DecodeError } from '../../../core/errors.ts';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import {
  decodeShipmentHash,
  encodeShipmentHash,
  geoPositionOf,
  shipmentHashKey,
  shipmentStateKeys,
  statusSetKey,
} from './shipment-state-hash.ts';

const T0 = 1_790_000_000_000;

function fullState(): UnifiedShipmentState {
  return {
    shipmentId: 'SHP-000042',
    customerId: 'CUS-7',
    originId: 'DEPOT-1',
    destinationId: 'CITY-3',
    status: 'IN_TRANSIT',
    promisedAt: T0 + 86_400_000,
    createdAt: T0,
    updatedAt: T0 + 3_600_000,
    vehicleId: 'VEH-9',
    lat: 52.520008,
    lon: 13.404954,
    positionTime: T0 + 3_599_123,
    speedKmh: 0.1 + 0.2,
    fuelPct: 63.25,
    engineTempC: -4.5,
    distanceTravelledKm: 12.345678901234567,
    distanceRemainingKm: 1e-7,
    predictedArrival: T0 + 7_200_000,
    predictionLow: T0 + 6_000_000,
    predictionHigh: T0 + 8_000_001,
    modelVersion: 'baseline-v1',
    version: 17,
    sourceOffsets: { 'shipments.cdc-3': 120, 'telemetry.clean-3': 9_007_199_254 },
    sourceLsn: 123_456_789_012,
    stateUpdatedAt: T0 + 3_600_500,
  };
}

function bareState(): UnifiedShipmentState {
  return {
    ...fullState(),
    status: 'CREATED',
    vehicleId: null,
    lat: null,
    lon: null,
    positionTime: null,
    speedKmh: null,
    fuelPct: null,
    engineTempC: null,
    predictedArrival: null,
    predictionLow: null,
    predictionHigh: null,
    modelVersion: null,
    sourceOffsets: {},
    sourceLsn: 0,
    distanceTravelledKm: 0,
  };
}

describe('shipment state hash encoding', () => {
  it('writes every field as a string and decodes back to the same state', () => {
    const state = fullState();
    const hash = encodeShipmentHash(state);
    expect(Object.keys(hash).sort()).toEqual(Object.keys(state).sort());
    for (const value of Object.values(hash)) expect(typeof value).toBe('string');
    expect(hash.version).toBe('17');
    expect(hash.speedKmh).toBe('0.30000000000000004');
    expect(JSON.parse(hash.sourceOffsets ?? '')).toEqual(state.sourceOffsets);
    expect(decodeShipmentHash(hash)).toEqual(state);
  });

  it('leaves null fields out of the hash and decodes their absence as null', () => {
    const state = bareState();
    const hash = encodeShipmentHash(state);
    expect(hash).not.toHaveProperty('vehicleId');
    expect(hash).not.toHaveProperty('lat');
    expect(hash).not.toHaveProperty('modelVersion');
    expect(hash.sourceOffsets).toBe('{}');
    expect(hash.distanceTravelledKm).toBe('0');
    const decoded = decodeShipmentHash(hash);
    expect(decoded).toEqual(state);
    expect(decoded.lat).toBeNull();
  });

  it('keeps an empty string as a value, distinct from null', () => {
    const state = { ...fullState(), modelVersion: '' };
    expect(decodeShipmentHash(encodeShipmentHash(state)).modelVersion).toBe('');
  });

  it('rejects a hash missing a required field', () => {
    const { version: _version, ...hash } = encodeShipmentHash(fullState());
    expect(() => decodeShipmentHash(hash)).toThrow(DecodeError);
  });

  it.each([
    ['version', ''],
    ['lat', 'north'],
    ['status', 'LOST'],
    ['sourceOffsets', '{"a": "1"}'],
    ['sourceOffsets', '[]'],
    ['sourceOffsets', 'not json'],
  ])('rejects %s = %j', (field, text) => {
    const hash = { ...encodeShipmentHash(fullState()), [field]: text };
    expect(() => decodeShipmentHash(hash)).toThrow(DecodeError);
  });
});

describe('geoPositionOf', () => {
  it('indexes a shipment on the way that has a position', () => {
    expect(geoPositionOf(fullState())).toEqual({ lon: 13.404954, lat: 52.520008 });
  });

  it.each(['DELIVERED', 'CANCELLED'] as const)('leaves a %s shipment out', (status) => {
    expect(geoPositionOf({ ...fullState(), status })).toBeNull();
  });

  it('leaves out a shipment without a position or outside the GEO latitude band', () => {
    expect(geoPositionOf(bareState())).toBeNull();
    expect(geoPositionOf({ ...fullState(), lat: 86 })).toBeNull();
    expect(geoPositionOf({ ...fullState(), lon: Number.NaN })).toBeNull();
  });
});

describe('key layout', () => {
  it('puts every key under the namespace', () => {
    const keys = shipmentStateKeys('t1:');
    expect(shipmentHashKey(keys, 'SHP-1')).toBe('t1:shipment:SHP-1');
    expect(keys.geoKey).toBe('t1:shipments:geo');
    expect(statusSetKey(keys, 'DELIVERED')).toBe('t1:shipments:status:DELIVERED');
    expect(shipmentHashKey(shipmentStateKeys(), 'SHP-1')).toBe('shipment:SHP-1');
  });
});
