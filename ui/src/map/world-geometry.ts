// The simulated world as map data, from the simulator's own cities (seeder/world.ts): the region
// they span (their convex hull, widened a little), the depot-to-city links the fleet drives,
// and the cities. No tile server: the map works offline.
import { CITIES, type City } from '../../../seeder/world.ts';

type Position = [number, number];

export interface WorldFeature {
  type: 'Feature';
  properties: { kind: 'land' | 'road' | 'city'; name?: string; depot?: boolean };
  geometry:
    | { type: 'Polygon'; coordinates: Position[][] }
    | { type: 'LineString'; coordinates: Position[] }
    | { type: 'Point'; coordinates: Position };
}

export interface WorldCollection {
  type: 'FeatureCollection';
  features: WorldFeature[];
}

function cross(o: Position, a: Position, b: Position): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Andrew's monotone chain: the hull's corners, counter-clockwise. */
export function convexHull(points: readonly Position[]): Position[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length < 3) return sorted;
  const lower: Position[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower.at(-2) as Position, lower.at(-1) as Position, p) <= 0)
      lower.pop();
    lower.push(p);
  }
  const upper: Position[] = [];
  for (const p of [...sorted].reverse()) {
    while (upper.length >= 2 && cross(upper.at(-2) as Position, upper.at(-1) as Position, p) <= 0)
      upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** Pushes each corner away from the centre by `degrees`, so the cities sit inside the outline. */
function widen(hull: readonly Position[], degrees: number): Position[] {
  const cx = hull.reduce((s, p) => s + p[0], 0) / hull.length;
  const cy = hull.reduce((s, p) => s + p[1], 0) / hull.length;
  return hull.map(([x, y]) => {
    const dx = x - cx;
    const dy = y - cy;
    const length = Math.hypot(dx, dy) || 1;
    return [x + (dx / length) * degrees, y + (dy / length) * degrees];
  });
}

const at = (city: City): Position => [city.lon, city.lat];

export function worldFeatures(cities: readonly City[] = CITIES): WorldCollection {
  const outline = widen(convexHull(cities.map(at)), 0.45);
  const depots = cities.filter((c) => c.depot);
  const roads = depots.flatMap((depot) =>
    cities
      .filter((c) => c.id !== depot.id)
      .map((c): WorldFeature => ({
        type: 'Feature',
        properties: { kind: 'road' },
        geometry: { type: 'LineString', coordinates: [at(depot), at(c)] },
      })),
  );
  return {
    type: 'FeatureCollection',
    features: [
      {
        type: 'Feature',
        properties: { kind: 'land' },
        geometry: { type: 'Polygon', coordinates: [[...outline, outline[0] as Position]] },
      },
      ...roads,
      ...cities.map((c): WorldFeature => ({
        type: 'Feature',
        properties: { kind: 'city', name: c.name, depot: c.depot },
        geometry: { type: 'Point', coordinates: at(c) },
      })),
    ],
  };
}

/** [[west, south], [east, north]] around every city, for the first view. */
export function worldBounds(cities: readonly City[] = CITIES): [Position, Position] {
  const lons = cities.map((c) => c.lon);
  const lats = cities.map((c) => c.lat);
  return [
    [Math.min(...lons) - 0.3, Math.min(...lats) - 0.2],
    [Math.max(...lons) + 0.3, Math.max(...lats) + 0.2],
  ];
}

export { CITIES };
