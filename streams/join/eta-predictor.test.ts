// The baseline ETA: distance ÷ speed with a floor, a typical speed when stopped, ±(20 % + 5 min).
import { BaselineEtaPredictor } from './eta-predictor.ts';
import { tripFeatures } from './trip-features.ts';

const at = Date.UTC(2026, 0, 5, 10, 0);
const query = (distanceRemainingKm: number, speedKmh: number) => ({
  at,
  ...tripFeatures({
    at,
    pickedUpAt: at - 30 * 60_000,
    distanceRemainingKm,
    distanceTravelledKm: 20,
    speedKmh,
  }),
});

describe('BaselineEtaPredictor', () => {
  const eta = new BaselineEtaPredictor();

  it('divides the remaining distance by the current speed, with a ±(20 % + 5 min) interval', () => {
    const p = eta.predict(query(50, 100)); // 30 min
    expect(p).toEqual({
      arrival: at + 30 * 60_000,
      low: at + 30 * 60_000 - 11 * 60_000,
      high: at + 30 * 60_000 + 11 * 60_000,
      modelVersion: 'baseline-v1',
    });
  });

  it('floors a crawl at 20 km/h and assumes 60 km/h when stopped', () => {
    expect(eta.predict(query(10, 10)).arrival).toBe(at + 30 * 60_000);
    expect(eta.predict(query(60, 0)).arrival).toBe(at + 60 * 60_000);
  });

  it('never puts the low end before now', () => {
    const p = eta.predict(query(0, 50));
    expect(p.arrival).toBe(at);
    expect(p.low).toBe(at);
    expect(p.high).toBe(at + 5 * 60_000);
  });
});

describe('tripFeatures', () => {
  it('derives average speed, UTC hour and weekday, elapsed minutes', () => {
    // Monday 2026-01-05 23:30 UTC.
    const f = tripFeatures({
      at: Date.UTC(2026, 0, 5, 23, 30),
      pickedUpAt: Date.UTC(2026, 0, 5, 22, 30),
      distanceRemainingKm: 5,
      distanceTravelledKm: 70,
      speedKmh: 80,
    });
    expect(f).toEqual({
      distanceRemainingKm: 5,
      distanceTravelledKm: 70,
      speedKmh: 80,
      avgSpeedKmh: 70,
      hourOfDay: 23,
      dayOfWeek: 1,
      elapsedMin: 60,
    });
  });
});
