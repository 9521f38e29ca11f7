// Distances on the map as the fleet simulator measures them: great circle (haversine) × the
// road detour factor. Copied from seeder/world.ts because streams/ may not depend on seeder/;
// geo.test.ts fails if the two drift apart.

/** Mean Earth radius (IUGG), the same one the simulator uses. */
const EARTH_RADIUS_KM = 6371.0088;

/** Roads are longer than the great circle; the simulator plans routes with the same factor. */
export const ROAD_FACTOR = 1.25;

export interface LatLon {
  lat: number;
  lon: number;
}

export function haversineKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Road distance estimate between two points, as the simulator plans its routes. */
export function roadDistanceKm(a: LatLon, b: LatLon): number {
  return haversineKm(a, b) * ROAD_FACTOR;
}
