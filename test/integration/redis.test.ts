// Redis as the hot shipment-state store: plain keys, a hash per shipment, a GEO index of vehicles.
import { Redis } from 'ioredis';
import { loadConfig } from '../../core/config.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
// Explicit per test and hook, whatever the runner's default.
const TIMEOUT_MS = 15_000;

describe('Redis', () => {
  let redis: Redis;
  const prefix = uniqueName('test', ':');
  const keys = { plain: `${prefix}:plain`, hash: `${prefix}:shipment`, geo: `${prefix}:vehicles` };

  beforeAll(() => {
    redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    return redis.connect();
  }, TIMEOUT_MS);

  afterAll(async () => {
    try {
      await redis.del(...Object.values(keys));
    } finally {
      // quit() waits for a reply a never-connected client would not get.
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    }
  }, TIMEOUT_MS);

  test(
    'SET with expiry and GET',
    async () => {
      const value = uniqueName('value');
      expect(await redis.set(keys.plain, value, 'EX', 300)).toBe('OK');
      expect(await redis.get(keys.plain)).toBe(value);
      const ttl = await redis.ttl(keys.plain);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
    },
    TIMEOUT_MS,
  );

  test(
    'HSET and HGETALL a shipment hash',
    async () => {
      const fields = {
        status: 'IN_TRANSIT',
        vehicleId: 'vehicle-7',
        version: '12',
        lat: '48.856613',
        lon: '2.352222',
      };
      expect(await redis.hset(keys.hash, fields)).toBe(Object.keys(fields).length);
      expect(await redis.hgetall(keys.hash)).toEqual(fields);
      // An update overwrites one field and adds none.
      expect(await redis.hset(keys.hash, { version: '13' })).toBe(0);
      expect(await redis.hget(keys.hash, 'version')).toBe('13');
    },
    TIMEOUT_MS,
  );

  test(
    'GEOADD and GEOSEARCH by radius, nearest first',
    async () => {
      // Berlin Mitte, Potsdam (~27 km away), Hamburg (~255 km away).
      const added = await redis.geoadd(
        keys.geo,
        13.404954,
        52.520008,
        'vehicle-mitte',
        13.064473,
        52.390569,
        'vehicle-potsdam',
        9.993682,
        53.551086,
        'vehicle-hamburg',
      );
      expect(added).toBe(3);

      const found = (await redis.geosearch(
        keys.geo,
        'FROMLONLAT',
        13.41,
        52.52,
        'BYRADIUS',
        50,
        'km',
        'ASC',
        'WITHDIST',
      )) as [string, string][];
      expect(found.map(([member]) => member)).toEqual(['vehicle-mitte', 'vehicle-potsdam']);
      const [mitte, potsdam] = found.map(([, distance]) => Number(distance));
      expect(mitte).toBeLessThan(1);
      expect(potsdam).toBeGreaterThan(20);
      expect(potsdam).toBeLessThan(35);

      const [position] = await redis.geopos(keys.geo, 'vehicle-hamburg');
      expect(Number(position?.[0])).toBeCloseTo(9.993682, 4);
      expect(Number(position?.[1])).toBeCloseTo(53.551086, 4);
    },
    TIMEOUT_MS,
  );
});
