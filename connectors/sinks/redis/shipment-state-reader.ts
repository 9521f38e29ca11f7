// Reads what ShipmentStateRedisSink wrote: one shipment's state by id, and the shipments on the
// way near a point (the GEO index), nearest first.
import type { Redis } from 'ioredis';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import {
  DEFAULT_SHIPMENT_STATE_KEYS,
  decodeShipmentHash,
  shipmentHashKey,
  type ShipmentStateKeys,
} from './shipment-state-hash.ts';

/** The shipment's state, or null when Redis holds none; throws a DecodeError on a corrupt hash. */
export async function getShipmentState(
  redis: Redis,
  shipmentId: string,
  keys: ShipmentStateKeys = DEFAULT_SHIPMENT_STATE_KEYS,
): Promise<UnifiedShipmentState | null> {
  const hash = await redis.hgetall(shipmentHashKey(keys, shipmentId));
  return Object.keys(hash).length === 0 ? null : decodeShipmentHash(hash);
}

export interface NearbyShipment {
  shipmentId: string;
  /** From the search point to the indexed position, km (Redis's geohash precision, ~0.6 m). */
  distanceKm: number;
  state: UnifiedShipmentState;
}

/** Up to `limit` shipments within `radiusKm` of (lon, lat), nearest first. */
export async function shipmentsNear(
  redis: Redis,
  lon: number,
  lat: number,
  radiusKm: number,
  limit: number,
  keys: ShipmentStateKeys = DEFAULT_SHIPMENT_STATE_KEYS,
): Promise<NearbyShipment[]> {
  const found = (await redis.call(
    'GEOSEARCH',
    keys.geoKey,
    'FROMLONLAT',
    lon,
    lat,
    'BYRADIUS',
    radiusKm,
    'km',
    'ASC',
    'COUNT',
    limit,
    'WITHDIST',
  )) as [string, string][];
  if (found.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const [id] of found) pipeline.hgetall(shipmentHashKey(keys, id));
  const hashes = (await pipeline.exec()) ?? [];
  const nearby: NearbyShipment[] = [];
  found.forEach(([shipmentId, distance], i) => {
    const [err, hash] = hashes[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    const fields = hash as Record<string, string>;
    // The script writes hash and index together; a member without a hash was deleted by hand.
    if (Object.keys(fields).length === 0) return;
    nearby.push({ shipmentId, distanceKm: Number(distance), state: decodeShipmentHash(fields) });
  });
  return nearby;
}
