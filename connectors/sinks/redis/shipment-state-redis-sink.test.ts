import { ReplyError } from 'ioredis';
import { SHIPMENT_STATUSES, type UnifiedShipmentState } from '../../../schemas/types.ts';
import { decodeShipmentHash, shipmentStateKeys } from './shipment-state-hash.ts';
import { applyStateArgs, isRetriableRedisError } from './shipment-state-redis-sink.ts';

const keys = shipmentStateKeys('ns:');

/** An error reply as ioredis raises it (its ReplyError export is typed `any`). */
function replyError(message: string): Error {
  const Reply = ReplyError as new (message: string) => Error;
  return new Reply(message);
}

function state(overrides: Partial<UnifiedShipmentState> = {}): UnifiedShipmentState {
  return {
    shipmentId: 'SHP-1',
    customerId: 'CUS-1',
    originId: 'DEPOT-1',
    destinationId: 'CITY-1',
    status: 'OUT_FOR_DELIVERY',
    promisedAt: 3,
    createdAt: 1,
    updatedAt: 2,
    vehicleId: 'VEH-1',
    lat: 48.1,
    lon: 11.5,
    positionTime: 2,
    speedKmh: 40,
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
    sourceLsn: 0,
    stateUpdatedAt: 4,
    ...overrides,
  };
}

/** Splits the EVALSHA arguments the way Redis hands them to the script. */
function asScriptSees(s: UnifiedShipmentState): { KEYS: string[]; ARGV: string[] } {
  const { numKeys, keysAndArgs } = applyStateArgs(keys, s);
  const all = keysAndArgs.map(String);
  return { KEYS: all.slice(0, numKeys), ARGV: all.slice(numKeys) };
}

describe('applyStateArgs', () => {
  it('names the hash, the GEO index and every status set, and points at the new status', () => {
    const { KEYS, ARGV } = asScriptSees(state());
    expect(KEYS.slice(0, 2)).toEqual(['ns:shipment:SHP-1', 'ns:shipments:geo']);
    expect(KEYS.slice(2)).toEqual(SHIPMENT_STATUSES.map((s) => `ns:shipments:status:${s}`));
    expect(ARGV.slice(0, 5)).toEqual(['SHP-1', '8', expect.any(String), '11.5', '48.1']);
    // Lua's KEYS is 1-based.
    expect(KEYS[Number(ARGV[2]) - 1]).toBe('ns:shipments:status:OUT_FOR_DELIVERY');
  });

  it('passes the whole hash as field/value pairs', () => {
    const s = state();
    const pairs = asScriptSees(s).ARGV.slice(5);
    const hash = Object.fromEntries(
      Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i], pairs[2 * i + 1]]),
    ) as Record<string, string>;
    expect(decodeShipmentHash(hash)).toEqual(s);
  });

  it('asks for removal from the GEO index once delivered', () => {
    const { ARGV } = asScriptSees(state({ status: 'DELIVERED' }));
    expect(ARGV.slice(3, 5)).toEqual(['', '']);
  });
});

describe('isRetriableRedisError', () => {
  it('retries lost connections and transient server states', () => {
    expect(isRetriableRedisError(new Error('Connection is closed.'))).toBe(true);
    expect(isRetriableRedisError(replyError('LOADING Redis is loading the dataset'))).toBe(true);
    expect(isRetriableRedisError(replyError('NOSCRIPT No matching script'))).toBe(true);
  });

  it('does not retry what Redis rejected', () => {
    expect(
      isRetriableRedisError(
        replyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
      ),
    ).toBe(false);
    expect(isRetriableRedisError(replyError('ERR user_script:3: bad argument'))).toBe(false);
  });
});
