// The linear floor finds a linear truth, and its coefficients line up with the feature names.
import { trainingRows } from '../features.ts';
import { syntheticDeliveries } from '../synthetic-deliveries.ts';
import { linearRegression } from './linear-regression.ts';

describe('linearRegression', () => {
  it('recovers minutes = 3 + 0.75 × remaining km', () => {
    const rows = trainingRows(syntheticDeliveries({ deliveries: 30 })).map((r) => ({
      ...r,
      label: 3 + 0.75 * r.features.distanceRemainingKm,
    }));
    const { body } = linearRegression.train(rows);
    expect(body.kind).toBe('LINEAR_REGRESSION');
    expect(body.coefficients).toHaveLength(body.featureNames.length);
    const minutes = (i: number): number =>
      body.intercept +
      body.featureNames.reduce(
        (s, name, j) =>
          s +
          (body.coefficients[j] ?? 0) *
            (rows[i]?.features[name as keyof (typeof rows)[0]['features']] ?? 0),
        0,
      );
    for (const i of [0, 10, 50]) expect(minutes(i)).toBeCloseTo(rows[i]?.label ?? 0, 3);
  });
});
