import { positionBefore } from '../api/state-stream.ts';
import { CITIES, convexHull, worldBounds, worldFeatures } from './world-geometry.ts';

describe('the simulated world on the map', () => {
  it('outlines every city of the simulator, and links each depot to the others', () => {
    const world = worldFeatures();
    const kinds = world.features.map((f) => f.properties.kind);
    expect(kinds.filter((k) => k === 'land')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'city')).toHaveLength(CITIES.length);
    const depots = CITIES.filter((c) => c.depot).length;
    expect(kinds.filter((k) => k === 'road')).toHaveLength(depots * (CITIES.length - 1));
    const [[west, south], [east, north]] = worldBounds();
    for (const c of CITIES) {
      expect(c.lon).toBeGreaterThan(west);
      expect(c.lon).toBeLessThan(east);
      expect(c.lat).toBeGreaterThan(south);
      expect(c.lat).toBeLessThan(north);
    }
  });

  it('keeps only the corners of a convex hull', () => {
    expect(
      convexHull([
        [0, 0],
        [2, 0],
        [1, 1],
        [2, 2],
        [0, 2],
      ]),
    ).toEqual([
      [0, 0],
      [2, 0],
      [2, 2],
      [0, 2],
    ]);
  });

  it('steps a stream position back on every partition, never before the start', () => {
    expect(positionBefore('0:5000,1:10,2:-1', 2_000)).toBe('0:3000,1:-1,2:-1');
  });
});
