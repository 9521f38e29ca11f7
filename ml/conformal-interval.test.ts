// Split conformal: quantiles of scaled residuals hold the requested coverage on new data drawn
// like the calibration data, with the finite-sample correction.
import { intervalMinutes } from '../schemas/eta-model-evaluation.ts';
import { calibrateInterval } from './conformal-interval.ts';
import { coverage } from './evaluation-metrics.ts';
import { seededRandom } from './models/eta-algorithm.ts';

/** Predictions m and actual values whose error grows with m, skewed late (delays). */
function draw(n: number, seed: number): { predicted: number[]; actual: number[] } {
  const random = seededRandom(seed);
  const predicted: number[] = [];
  const actual: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = 5 + 120 * random();
    const noise = -Math.log(1 - random()) - 0.6; // exponential, shifted: a long late tail
    predicted.push(m);
    actual.push(Math.max(0, m + noise * 0.25 * (m + 20)));
  }
  return { predicted, actual };
}

describe('calibrateInterval', () => {
  it('covers 90 % of new data for a 90 % interval (85–95 %)', () => {
    const calibration = draw(2_000, 1);
    const interval = calibrateInterval(calibration.predicted, calibration.actual, {
      coverage: 0.9,
      scaleOffsetMinutes: 20,
    });
    expect(interval.lowerScore).toBeLessThan(0);
    expect(interval.upperScore).toBeGreaterThan(-interval.lowerScore); // late tail
    const fresh = draw(5_000, 2);
    const bounds = fresh.predicted.map(
      (m) => intervalMinutes({ ...interval, measuredCoverage: 0 }, m) ?? { low: m, high: m },
    );
    const measured = coverage(bounds, fresh.actual);
    expect(measured).toBeGreaterThanOrEqual(0.85);
    expect(measured).toBeLessThanOrEqual(0.95);
  });

  it('takes the ⌊(n+1)α/2⌋-th and ⌈(n+1)(1−α/2)⌉-th smallest scores', () => {
    // Scores (y − m) / (m + 0) with m = 1: y − 1 = −9 … 9 (19 values, α = 0.2 → 2nd and 18th).
    const actual = Array.from({ length: 19 }, (_, i) => i - 8);
    const predicted = actual.map(() => 1);
    const interval = calibrateInterval(predicted, actual, { coverage: 0.8, scaleOffsetMinutes: 0 });
    expect(interval.lowerScore).toBe(-8);
    expect(interval.upperScore).toBe(8);
  });

  it('refuses to calibrate on nothing', () => {
    expect(() => calibrateInterval([], [], { coverage: 0.9, scaleOffsetMinutes: 20 })).toThrow(
      RangeError,
    );
  });
});
