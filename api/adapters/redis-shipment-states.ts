// The hot store port on what the Redis sink writes (hash per shipment, GEO index).
import type { Redis } from 'ioredis';
import {
  getShipmentState,
  shipmentsNear,
} from '../../connectors/sinks/redis/shipment-state-reader.ts';
import type { ShipmentStateKeys } from '../../connectors/sinks/redis/shipment-state-hash.ts';
import type { HotShipmentStates } from '../ports.ts';

export function redisShipmentStates(redis: Redis, keys: ShipmentStateKeys): HotShipmentStates {
  return {
    get: (shipmentId) => getShipmentState(redis, shipmentId, keys),
    near: async ({ lat, lon, radiusKm, limit }) =>
      (await shipmentsNear(redis, lon, lat, radiusKm, limit, keys)).map((n) => ({
        distanceKm: n.distanceKm,
        state: n.state,
      })),
  };
}
