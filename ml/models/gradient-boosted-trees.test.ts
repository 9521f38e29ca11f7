// The boosted trees: they learn what a line cannot, the same for the same seed, and come out
// in the form the join evaluates (schemas/eta-model-evaluation.ts) with the same predictions.
import { etaFeatures } from '../../schemas/eta-features.ts';
import { isServableEtaModel, predictMinutes } from '../../schemas/eta-model-evaluation.ts';
import { trainingRows } from '../features.ts';
import { syntheticDeliveries } from '../synthetic-deliveries.ts';
import { gradientBoostedTrees, trainBoostedTrees } from './gradient-boosted-trees.ts';

const OPTIONS = {
  trees: 60,
  maxDepth: 3,
  learningRate: 0.3,
  minLeafExamples: 2,
  bins: 32,
  subsample: 1,
  seed: 1,
};

describe('trainBoostedTrees', () => {
  it('fits a step no straight line fits (town after 6 km): absolute error near 0', () => {
    const x = Array.from({ length: 200 }, (_, i) => [i / 10]);
    const y = x.map(([km]) => ((km ?? 0) <= 6 ? 30 : 5));
    const { intercept, trees } = trainBoostedTrees(x, y, OPTIONS);
    const predict = (v: number): number =>
      predictMinutes(
        {
          modelName: 'm',
          version: 1,
          kind: 'TREE_ENSEMBLE',
          featureNames: ['distanceRemainingKm'],
          coefficients: [],
          intercept,
          trees,
          metrics: {},
          mlflowRunId: null,
          trainedAt: 0,
          trainingExamples: 0,
        },
        { ...etaFeatures({ ...SNAPSHOT, distanceRemainingKm: v }) },
      ) ?? Number.NaN;
    expect(predict(2)).toBeCloseTo(30, 0);
    expect(predict(5.9)).toBeCloseTo(30, 0);
    expect(predict(6.5)).toBeCloseTo(5, 0);
    expect(predict(15)).toBeCloseTo(5, 0);
  });

  it('is deterministic for a seed and differs for another', () => {
    const rows = trainingRows(syntheticDeliveries({ deliveries: 40 }));
    const a = gradientBoostedTrees({ trees: 10, seed: 3 }).train(rows);
    const b = gradientBoostedTrees({ trees: 10, seed: 3 }).train(rows);
    const c = gradientBoostedTrees({ trees: 10, seed: 4 }).train(rows);
    expect(a.body).toEqual(b.body);
    expect(a.body.trees).not.toEqual(c.body.trees);
  });

  it('writes trees the join can walk: pre-order, children after parents', () => {
    const rows = trainingRows(syntheticDeliveries({ deliveries: 40 }));
    const { body } = gradientBoostedTrees({ trees: 5 }).train(rows);
    const model = {
      ...body,
      modelName: 'eta',
      version: 1,
      metrics: {},
      mlflowRunId: null,
      trainedAt: 0,
      trainingExamples: rows.length,
      interval: null,
    };
    expect(isServableEtaModel(model)).toBe(true);
    for (const tree of body.trees)
      tree.feature.forEach((f, i) => {
        if (f >= 0) expect(Math.min(tree.left[i] ?? -1, tree.right[i] ?? -1)).toBeGreaterThan(i);
      });
  });
});

const SNAPSHOT = {
  at: Date.UTC(2026, 0, 5, 10),
  distanceRemainingKm: 10,
  distanceTravelledKm: 20,
  speedKmh: 60,
  avgSpeedKmh: 50,
  hourOfDay: 10,
  dayOfWeek: 1,
  elapsedMin: 24,
};
