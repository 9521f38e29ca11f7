// The time-based holdout: the newest deliveries are held out, whole, in two halves.
import { splitByArrival, HoldoutError } from './time-holdout.ts';
import { syntheticDeliveries } from './synthetic-deliveries.ts';

describe('splitByArrival', () => {
  const examples = syntheticDeliveries({ deliveries: 40 }).reverse();

  it('trains on the oldest, calibrates on the next, evaluates on the newest', () => {
    const split = splitByArrival(examples, 0.3);
    expect([split.train.length, split.calibration.length, split.evaluation.length]).toEqual([
      28, 6, 6,
    ]);
    const last = (xs: typeof examples): number => Math.max(...xs.map((e) => e.actualArrival));
    const first = (xs: typeof examples): number => Math.min(...xs.map((e) => e.actualArrival));
    expect(last(split.train)).toBeLessThanOrEqual(first(split.calibration));
    expect(last(split.calibration)).toBeLessThanOrEqual(first(split.evaluation));
    const ids = [...split.train, ...split.calibration, ...split.evaluation].map(
      (e) => e.shipmentId,
    );
    expect(new Set(ids).size).toBe(40);
  });

  it('refuses a window too small to hold out anything', () => {
    expect(() => splitByArrival(examples.slice(0, 3), 0.3)).toThrow(HoldoutError);
  });
});
