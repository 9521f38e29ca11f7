import { parseDuration } from './duration.ts';
import { Random } from './random.ts';
import { INITIAL_STATUS, isTerminal, SHIPMENT_TRANSITIONS } from '../schemas/shipment-lifecycle.ts';
import { SHIPMENT_STATUSES, type ShipmentStatus } from '../schemas/types.ts';
import { drivingSpeedKmh, engineTempAfter, isRushHour } from './vehicle-model.ts';
import {
  buildWorld,
  CITIES,
  destinationPoint,
  haversineKm,
  planRoute,
  roadClassAt,
  ROAD_FACTOR,
  VEHICLE_TYPES,
  type Place,
} from './world.ts';

const place = (cityId: string, dLat = 0): Place => {
  const c = CITIES.find((x) => x.id === cityId);
  if (!c) throw new Error(cityId);
  return { id: cityId, cityId, lat: c.lat + dLat, lon: c.lon };
};

describe('world', () => {
  test('haversine: Köln–Frankfurt is about 152 km as the crow flies', () => {
    expect(haversineKm(place('cgn'), place('fra'))).toBeGreaterThan(148);
    expect(haversineKm(place('cgn'), place('fra'))).toBeLessThan(156);
    const p = destinationPoint(place('cgn'), 45, 30);
    expect(haversineKm(place('cgn'), p)).toBeCloseTo(30, 6);
  });

  test('routes: road factor, legs sum to the length, urban at both ends, motorway between far cities', () => {
    const route = planRoute(place('cgn'), place('fra'));
    expect(route.km).toBeCloseTo(haversineKm(place('cgn'), place('fra')) * ROAD_FACTOR, 9);
    expect(route.legs.reduce((s, l) => s + l.km, 0)).toBeCloseTo(route.km, 9);
    expect(route.legs.map((l) => l.roadClass)).toEqual(['urban', 'motorway', 'urban']);
    expect(roadClassAt(route, 1)).toBe('urban');
    expect(roadClassAt(route, route.km / 2)).toBe('motorway');
    expect(planRoute(place('dus'), place('dui')).legs[1]?.roadClass).toBe('highway');
    expect(planRoute(place('cgn'), place('cgn', 0.02)).legs.map((l) => l.roadClass)).toEqual([
      'urban',
    ]);
  });

  test('buildWorld is deterministic and every fleet of three or more has every vehicle size', () => {
    const a = buildWorld(new Random(1), { vehicles: 5, customers: 10 });
    expect(buildWorld(new Random(1), { vehicles: 5, customers: 10 })).toEqual(a);
    expect(new Set(a.vehicles.map((v) => v.type.kind))).toEqual(
      new Set(Object.keys(VEHICLE_TYPES)),
    );
    expect(a.customers).toHaveLength(10);
    expect(a.depots.length).toBeGreaterThan(1);
  });

  test('speed: rush hours are slower, vehicles never exceed their limit', () => {
    const van = VEHICLE_TYPES.van;
    const rush = Date.UTC(2026, 0, 5, 7, 0); // 08:00 local
    const noon = Date.UTC(2026, 0, 5, 11, 0);
    expect(isRushHour(rush)).toBe(true);
    expect(isRushHour(noon)).toBe(false);
    expect(drivingSpeedKmh(van, 'urban', rush, 1)).toBeLessThan(
      drivingSpeedKmh(van, 'urban', noon, 1),
    );
    expect(
      drivingSpeedKmh(VEHICLE_TYPES['semi-trailer'], 'motorway', noon, 1.1),
    ).toBeLessThanOrEqual(85);
  });

  test('engine temperature warms to ~90 °C, more under load, and cools when off', () => {
    const warm = engineTempAfter(12, true, 0.2, 60 * 60_000);
    expect(warm).toBeGreaterThan(85);
    expect(warm).toBeLessThan(95);
    expect(engineTempAfter(12, true, 1, 60 * 60_000)).toBeGreaterThan(warm);
    expect(engineTempAfter(90, false, 0, 3 * 3_600_000)).toBeLessThan(15);
  });
});

describe('shipment transitions', () => {
  test('the table covers every status; DELIVERED and CANCELLED are the only terminal ones', () => {
    expect(Object.keys(SHIPMENT_TRANSITIONS).sort()).toEqual([...SHIPMENT_STATUSES].sort());
    expect(SHIPMENT_STATUSES.filter(isTerminal).sort()).toEqual(['CANCELLED', 'DELIVERED']);
    for (const [from, tos] of Object.entries(SHIPMENT_TRANSITIONS)) expect(tos).not.toContain(from);
  });

  test('every status is reachable from CREATED and every one can still finish', () => {
    const reach = (start: ShipmentStatus): Set<ShipmentStatus> => {
      const seen = new Set<ShipmentStatus>([start]);
      const queue = [start];
      for (let s = queue.shift(); s; s = queue.shift())
        for (const t of SHIPMENT_TRANSITIONS[s]) {
          if (seen.has(t)) continue;
          seen.add(t);
          queue.push(t);
        }
      return seen;
    };
    expect(reach(INITIAL_STATUS).size).toBe(SHIPMENT_STATUSES.length);
    for (const s of SHIPMENT_STATUSES)
      expect(reach(s).has('DELIVERED') || reach(s).has('CANCELLED')).toBe(true);
  });
});

describe('parseDuration', () => {
  test.each([
    ['6h', 21_600_000],
    ['90m', 5_400_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['250ms', 250],
    ['2d', 172_800_000],
    ['1.5h', 5_400_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(['', '6', 'h', '6x', '6h and more', '-1h'])('rejects %p', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
});
