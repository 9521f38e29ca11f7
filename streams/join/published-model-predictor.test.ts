// Serving published ETA models: linear and tree models over the shared ETA features, conformal
// intervals, and the baseline whenever no usable model of the chosen name is there.
import { etaFeatures } from '../../schemas/eta-features.ts';
import type { EtaModel, EtaTree } from '../../schemas/types.ts';
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
    modelName: 'eta',
    version: 7,
    kind: 'LINEAR_REGRESSION',
    featureNames: ['distanceRemainingKm', 'speedKmh'],
    coefficients: [1.5, -0.1],
    intercept: 4,
    metrics: { mae: 3, rmse: 5 },
    mlflowRunId: null,
    trainedAt: AT,
    trainingExamples: 500,
    trees: [],
    interval: null,
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
      modelVersion: 'eta-v7',
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

  /** minutesAtCurrentSpeed (feature 1) ≤ 40 → 30 min, else 90 min; plus 5 everywhere. */
  const trees: EtaTree[] = [
    {
      feature: [1, -1, -1],
      threshold: [40, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      value: [0, 30, 90],
    },
    { feature: [-1], threshold: [0], left: [-1], right: [-1], value: [5] },
  ];
  const treeModel = (overrides: Partial<EtaModel> = {}): EtaModel =>
    model({
      kind: 'TREE_ENSEMBLE',
      featureNames: ['distanceRemainingKm', 'minutesAtCurrentSpeed'],
      coefficients: [],
      intercept: 2,
      trees,
      ...overrides,
    });

  it('adds up the trees on the shared features', () => {
    // 30 km at 50 km/h = 36 minutes: the left leaf.
    expect(etaFeatures(query).minutesAtCurrentSpeed).toBe(36);
    expect(predictorWith(treeModel()).predict(query).arrival).toBe(AT + (2 + 30 + 5) * MIN);
    const slow = { ...query, speedKmh: 30 };
    expect(predictorWith(treeModel()).predict(slow).arrival).toBe(AT + (2 + 90 + 5) * MIN);
  });

  it('refuses trees it could not walk: children before their parent, unknown features', () => {
    const loop: EtaTree = { ...(trees[0] as EtaTree), left: [0, -1, -1] };
    expect(isServable(treeModel())).toBe(true);
    expect(isServable(treeModel({ trees: [loop] }))).toBe(false);
    expect(isServable(treeModel({ trees: [] }))).toBe(false);
    expect(isServable(treeModel({ featureNames: ['distanceRemainingKm'] }))).toBe(false);
    const baseline = new BaselineEtaPredictor().predict(query);
    expect(predictorWith(treeModel({ trees: [loop] })).predict(query)).toEqual(baseline);
  });

  it('serves the conformal interval the model carries, scaled with the prediction', () => {
    const interval = {
      coverage: 0.9,
      lowerScore: -0.2,
      upperScore: 0.5,
      scaleOffsetMinutes: 10,
      measuredCoverage: 0.91,
    };
    const prediction = predictorWith(treeModel({ interval })).predict(query);
    const minutes = 37;
    expect(prediction.low).toBe(AT + Math.round((minutes - 0.2 * (minutes + 10)) * MIN));
    expect(prediction.high).toBe(AT + Math.round((minutes + 0.5 * (minutes + 10)) * MIN));
  });

  it('reads a record written before trees and intervals existed as a linear model', () => {
    const { trees: _t, interval: _i, ...old } = model();
    const prediction = predictorWith(old as EtaModel).predict(query);
    expect(prediction.modelVersion).toBe('eta-v7');
    expect(prediction.high - prediction.arrival).toBe(Math.round(1.28 * 5 * MIN));
  });

  it('serves a newly published version from the next prediction on', () => {
    const store = new InMemoryKeyValueStore<string, EtaModel>('eta-models');
    const predictor = new PublishedModelEtaPredictor(store, new BaselineEtaPredictor());
    expect(predictor.predict(query).modelVersion).toBe('baseline-v1');
    store.restore({ key: 'eta', value: model() });
    expect(predictor.predict(query).modelVersion).toBe('eta-v7');
    store.restore({ key: 'eta', value: treeModel({ version: 8 }) });
    expect(predictor.predict(query).modelVersion).toBe('eta-v8');
  });
});
