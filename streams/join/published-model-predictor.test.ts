// Serving published ETA models: a linear model over the join's trip features, and the baseline
// whenever no usable model of the chosen name is there.
import type { EtaModel } from '../../schemas/types.ts';
import { InMemoryKeyValueStore } from '../runtime/state-store.ts';
import { BaselineEtaPredictor, type EtaQuery } from './eta-predictor.ts';
import { isServable, PublishedModelEtaPredictor } from './published-model-predictor.ts';

const AT = Date.UTC(2026, 0, 5, 9, 0);
const MIN = 60_000;
const query: EtaQuery = {
  at: AT,
  distanceRemainingKm: 30,
  distanceTravelledKm: 12,
  speedKmh: 50,
  avgSpeedKmh: 40,
  hourOfDay: 9,
  dayOfWeek: 1,
  elapsedMin: 18,
};

function model(overrides: Partial<EtaModel> = {}): EtaModel {
  return {
    modelName: 'eta-linear',
    version: 7,
    kind: 'LINEAR_REGRESSION',
    featureNames: ['distanceRemainingKm', 'speedKmh'],
    coefficients: [1.5, -0.1],
    intercept: 4,
    metrics: { mae: 3, rmse: 5 },
    mlflowRunId: null,
    trainedAt: AT,
    trainingExamples: 500,
    ...overrides,
  };
}

function predictorWith(...models: EtaModel[]): PublishedModelEtaPredictor {
  const store = new InMemoryKeyValueStore<string, EtaModel>('eta-models');
  for (const m of models) store.restore({ key: m.modelName, value: m });
  return new PublishedModelEtaPredictor(store, new BaselineEtaPredictor());
}

describe('PublishedModelEtaPredictor', () => {
  it('evaluates intercept + Σ coefficient × feature, with ±1.28 RMSE as the interval', () => {
    const prediction = predictorWith(model()).predict(query);
    const minutes = 4 + 1.5 * 30 - 0.1 * 50;
    expect(prediction).toEqual({
      arrival: AT + minutes * MIN,
      low: AT + minutes * MIN - Math.round(1.28 * 5 * MIN),
      high: AT + minutes * MIN + Math.round(1.28 * 5 * MIN),
      modelVersion: 'eta-linear-v7',
    });
  });

  it('never predicts an arrival before now', () => {
    const prediction = predictorWith(model({ intercept: -500 })).predict(query);
    expect(prediction.arrival).toBe(AT);
    expect(prediction.low).toBe(AT);
  });

  it('uses the baseline until a servable model of its name is published', () => {
    const baseline = new BaselineEtaPredictor().predict(query);
    expect(predictorWith().predict(query)).toEqual(baseline);
    expect(predictorWith(model({ modelName: 'other' })).predict(query)).toEqual(baseline);
    expect(predictorWith(model({ kind: 'BASELINE' })).predict(query)).toEqual(baseline);
  });

  it('serves only models over features the join computes, with one coefficient each', () => {
    expect(isServable(model())).toBe(true);
    expect(isServable(model({ featureNames: ['rainfallMm'], coefficients: [1] }))).toBe(false);
    expect(isServable(model({ coefficients: [1] }))).toBe(false);
    expect(isServable(model({ intercept: Number.NaN }))).toBe(false);
  });

  it('without an RMSE falls back to 20 % of the remaining time plus 5 minutes', () => {
    const prediction = predictorWith(model({ metrics: {} })).predict(query);
    const remaining = (4 + 1.5 * 30 - 0.1 * 50) * MIN;
    expect(prediction.high - prediction.arrival).toBe(Math.round(remaining * 0.2 + 5 * MIN));
  });
});
