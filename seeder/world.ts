// The simulated world: real city coordinates in western Germany, depots, customers, vehicle
// types and road routes (haversine × a road factor, split into urban / highway / motorway legs).
import type { Random } from './random.ts';

export const ROAD_CLASSES = ['motorway', 'highway', 'urban'] as const;
export type RoadClass = (typeof ROAD_CLASSES)[number];

/** Free-flow speed per road class (km/h) before the vehicle's own limit, rush hours and congestion. */
export const FREE_FLOW_KMH: Readonly<Record<RoadClass, number>> = {
  motorway: 110,
  highway: 80,
  urban: 40,
};

/** Roads are longer than the great circle; 1.25 is the usual detour factor for European roads. */
export const ROAD_FACTOR = 1.25;
/** Every trip starts and ends with this much city driving (or less, on short trips). */
const URBAN_APPROACH_KM = 6;
/** Cities closer than this (great circle) are linked by a federal highway rather than the motorway. */
const HIGHWAY_BELOW_KM = 40;

export interface City {
  id: string;
  name: string;
  lat: number;
  lon: number;
  depot: boolean;
}

export const CITIES: readonly City[] = [
  { id: 'cgn', name: 'Köln', lat: 50.9375, lon: 6.9603, depot: true },
  { id: 'dus', name: 'Düsseldorf', lat: 51.2277, lon: 6.7735, depot: false },
  { id: 'dtm', name: 'Dortmund', lat: 51.5136, lon: 7.4653, depot: true },
  { id: 'ess', name: 'Essen', lat: 51.4556, lon: 7.0116, depot: false },
  { id: 'dui', name: 'Duisburg', lat: 51.4344, lon: 6.7623, depot: false },
  { id: 'bon', name: 'Bonn', lat: 50.7374, lon: 7.0982, depot: false },
  { id: 'mst', name: 'Münster', lat: 51.9607, lon: 7.6261, depot: false },
  { id: 'fra', name: 'Frankfurt am Main', lat: 50.1109, lon: 8.6821, depot: true },
  { id: 'mz', name: 'Mainz', lat: 49.9929, lon: 8.2473, depot: false },
  { id: 'ko', name: 'Koblenz', lat: 50.3569, lon: 7.589, depot: false },
  { id: 'ks', name: 'Kassel', lat: 51.3127, lon: 9.4797, depot: false },
];

export interface Place {
  id: string;
  cityId: string;
  lat: number;
  lon: number;
}

export interface Depot extends Place {
  name: string;
}

export interface Customer {
  customerId: string;
  /** Where this customer's shipments go (the shipments.destination_id). */
  site: Place;
}

export const VEHICLE_KINDS = ['van', 'box-truck', 'semi-trailer'] as const;
export type VehicleKind = (typeof VEHICLE_KINDS)[number];

export interface VehicleType {
  kind: VehicleKind;
  tankLiters: number;
  /** Diesel per 100 km at steady highway speed, empty. */
  litersPer100Km: number;
  idleLitersPerHour: number;
  maxSpeedKmh: number;
  capacityKg: number;
}

export const VEHICLE_TYPES: Readonly<Record<VehicleKind, VehicleType>> = {
  van: {
    kind: 'van',
    tankLiters: 80,
    litersPer100Km: 10,
    idleLitersPerHour: 0.8,
    maxSpeedKmh: 130,
    capacityKg: 1_200,
  },
  'box-truck': {
    kind: 'box-truck',
    tankLiters: 200,
    litersPer100Km: 20,
    idleLitersPerHour: 1.5,
    maxSpeedKmh: 100,
    capacityKg: 7_000,
  },
  'semi-trailer': {
    kind: 'semi-trailer',
    tankLiters: 600,
    litersPer100Km: 32,
    idleLitersPerHour: 2.5,
    // German trucks over 7.5 t are limited to 80 km/h on motorways; the limiter allows a bit more.
    maxSpeedKmh: 85,
    capacityKg: 24_000,
  },
};

export interface VehicleSpec {
  vehicleId: string;
  type: VehicleType;
  homeDepotId: string;
  initialOdometerKm: number;
  initialFuelPct: number;
}

export interface World {
  depots: readonly Depot[];
  customers: readonly Customer[];
  vehicles: readonly VehicleSpec[];
}

export interface WorldOptions {
  vehicles: number;
  customers: number;
}

export const WORLD_DEFAULTS: WorldOptions = { vehicles: 10, customers: 40 };

const EARTH_RADIUS_KM = 6371.0088;

export function haversineKm(
  a: { lat: number; lon: number },
  b: { lat: number; lon: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial compass bearing from a to b, degrees in [0, 360). */
export function bearingDeg(
  a: { lat: number; lon: number },
  b: { lat: number; lon: number },
): number {
  const rad = Math.PI / 180;
  const y = Math.sin((b.lon - a.lon) * rad) * Math.cos(b.lat * rad);
  const x =
    Math.cos(a.lat * rad) * Math.sin(b.lat * rad) -
    Math.sin(a.lat * rad) * Math.cos(b.lat * rad) * Math.cos((b.lon - a.lon) * rad);
  return (((Math.atan2(y, x) / rad) % 360) + 360) % 360;
}

/** The point `km` away from `from` along `bearing` (spherical earth). */
export function destinationPoint(
  from: { lat: number; lon: number },
  bearing: number,
  km: number,
): { lat: number; lon: number } {
  const rad = Math.PI / 180;
  const d = km / EARTH_RADIUS_KM;
  const lat1 = from.lat * rad;
  const lon1 = from.lon * rad;
  const brg = bearing * rad;
  const lat2 = Math.asin(
    Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(brg),
  );
  const lon2 =
    lon1 +
    Math.atan2(
      Math.sin(brg) * Math.sin(d) * Math.cos(lat1),
      Math.cos(d) - Math.sin(lat1) * Math.sin(lat2),
    );
  return { lat: lat2 / rad, lon: ((lon2 / rad + 540) % 360) - 180 };
}

export interface RouteLeg {
  roadClass: RoadClass;
  km: number;
}

export interface Route {
  from: Place;
  to: Place;
  km: number;
  legs: readonly RouteLeg[];
}

/** Road route between two places: urban exit, the inter-city leg, urban approach. */
export function planRoute(from: Place, to: Place): Route {
  const straight = haversineKm(from, to);
  const km = Math.max(0.5, straight * ROAD_FACTOR);
  if (from.cityId === to.cityId || km <= 2 * URBAN_APPROACH_KM) {
    return { from, to, km, legs: [{ roadClass: 'urban', km }] };
  }
  const main: RoadClass = straight < HIGHWAY_BELOW_KM ? 'highway' : 'motorway';
  return {
    from,
    to,
    km,
    legs: [
      { roadClass: 'urban', km: URBAN_APPROACH_KM },
      { roadClass: main, km: km - 2 * URBAN_APPROACH_KM },
      { roadClass: 'urban', km: URBAN_APPROACH_KM },
    ],
  };
}

/** The road class at `travelledKm` along the route. */
export function roadClassAt(route: Route, travelledKm: number): RoadClass {
  let start = 0;
  for (const leg of route.legs) {
    if (travelledKm < start + leg.km) return leg.roadClass;
    start += leg.km;
  }
  return route.legs[route.legs.length - 1]?.roadClass ?? 'urban';
}

/** Linear interpolation of the position along the straight line (good enough at map scale). */
export function positionAt(route: Route, travelledKm: number): { lat: number; lon: number } {
  const f = route.km <= 0 ? 1 : Math.min(1, Math.max(0, travelledKm / route.km));
  return {
    lat: route.from.lat + (route.to.lat - route.from.lat) * f,
    lon: route.from.lon + (route.to.lon - route.from.lon) * f,
  };
}

/** Builds depots, customers and the fleet from the world stream of the seed. */
export function buildWorld(rng: Random, options: WorldOptions): World {
  const depots: Depot[] = CITIES.filter((c) => c.depot).map((c) => ({
    id: `depot-${c.id}`,
    name: `${c.name} depot`,
    cityId: c.id,
    // Depots sit in the industrial outskirts, a few km from the centre.
    lat: c.lat + 0.02,
    lon: c.lon - 0.03,
  }));
  const customers: Customer[] = [];
  for (let i = 1; i <= options.customers; i++) {
    const city = rng.pick(CITIES);
    const customerId = `cust-${String(i).padStart(4, '0')}`;
    customers.push({
      customerId,
      site: {
        id: `site-${String(i).padStart(4, '0')}-${city.id}`,
        cityId: city.id,
        lat: city.lat + rng.uniform(-0.03, 0.03),
        lon: city.lon + rng.uniform(-0.045, 0.045),
      },
    });
  }
  // Round-robin over the mix, so any fleet of three or more has every size of vehicle.
  const mix: readonly VehicleKind[] = ['van', 'box-truck', 'semi-trailer', 'van', 'box-truck'];
  const vehicles: VehicleSpec[] = [];
  for (let i = 1; i <= options.vehicles; i++) {
    const depot = depots[(i - 1) % depots.length] as Depot;
    vehicles.push({
      vehicleId: `veh-${String(i).padStart(3, '0')}`,
      type: VEHICLE_TYPES[mix[(i - 1) % mix.length] as VehicleKind],
      homeDepotId: depot.id,
      initialOdometerKm: Math.round(rng.uniform(20_000, 300_000)),
      initialFuelPct: rng.uniform(35, 100),
    });
  }
  return { depots, customers, vehicles };
}
