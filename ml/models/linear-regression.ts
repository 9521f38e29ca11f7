// The floor: ordinary least squares over every ETA feature (ml-regression-multivariate-linear),
// served by the join as intercept + Σ coefficient × feature.
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { ETA_FEATURE_NAMES, featureMatrix, type TrainingRow } from '../features.ts';
import type { EtaAlgorithm, TrainedCandidate } from './eta-algorithm.ts';

export const linearRegression: EtaAlgorithm = {
  name: 'linear',
  train(rows: readonly TrainingRow[]): TrainedCandidate {
    const names = [...ETA_FEATURE_NAMES];
    const x = featureMatrix(rows, names);
    const regression = new MultivariateLinearRegression(
      x,
      rows.map((r) => [r.label]),
      { intercept: true },
    );
    // One output: a column of weights, the intercept last.
    const weights = regression.weights.map((w) => w[0] ?? 0);
    const intercept = weights.pop() ?? 0;
    // Collinear features (routeKm = travelled + remaining) get the minimum-norm solution; a
    // NaN would make the model unservable, so it counts as 0.
    return {
      body: {
        kind: 'LINEAR_REGRESSION',
        featureNames: names,
        coefficients: weights.map((w) => (Number.isFinite(w) ? w : 0)),
        intercept: Number.isFinite(intercept) ? intercept : 0,
        trees: [],
      },
      params: { solver: 'ml-regression-multivariate-linear' },
      trainedOn: rows.length,
    };
  },
};
