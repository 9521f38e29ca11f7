// streams/geo.ts copies the simulator's distance formula; these tests keep the copies equal.
import {
  haversineKm as seederHaversineKm,
  ROAD_FACTOR as SEEDER_ROAD_FACTOR,
} from '../seeder/world.ts';
import { haversineKm, ROAD_FACTOR, roadDistanceKm } from './geo.ts';

const cologne = { lat: 50.9375, lon: 6.9603 };
const dusseldorf = { lat: 51.2277, lon: 6.7735 };

describe('geo', () => {
  it('measures like the simulator (same radius, same road factor)', () => {
    expect(ROAD_FACTOR).toBe(SEEDER_ROAD_FACTOR);
    expect(haversineKm(cologne, dusseldorf)).toBe(seederHaversineKm(cologne, dusseldorf));
  });

  it('gives the known Cologne–Düsseldorf great circle (~34.8 km) and its road estimate', () => {
    expect(haversineKm(cologne, dusseldorf)).toBeCloseTo(34.8, 0);
    expect(roadDistanceKm(cologne, dusseldorf)).toBeCloseTo(34.8 * 1.25, 0);
    expect(haversineKm(cologne, cologne)).toBe(0);
  });
});
