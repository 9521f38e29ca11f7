// One training end to end, without I/O: candidates, the winner, its interval, the baselines and
// the champion measured on the same held-out deliveries, and the promotion verdict.
import { isServableEtaModel, predictMinutes } from '../schemas/eta-model-evaluation.ts';
import type { EtaModel } from '../schemas/types.ts';
import { checkpointFeatures } from './features.ts';
import { DATA_TO_METRIC } from './live-accuracy.ts';
import { syntheticDeliveries } from './synthetic-deliveries.ts';
import { trainEtaModel, TRAINING_DEFAULTS } from './train-eta-model.ts';

const examples = syntheticDeliveries({ deliveries: 160 });
const NOW = Date.UTC(2026, 5, 1);

describe('trainEtaModel', () => {
  const outcome = trainEtaModel(examples, undefined, TRAINING_DEFAULTS, () => NOW);

  it('keeps the candidate that did best on the calibration deliveries', () => {
    expect(outcome.candidates.map((c) => c.algorithm)).toEqual([
      'linear',
      'gradient-boosted-trees',
    ]);
    const best = Math.min(...outcome.candidates.map((c) => c.selection.mae));
    expect(outcome.candidates.find((c) => c.algorithm === outcome.algorithm)?.selection.mae).toBe(
      best,
    );
    expect(outcome.algorithm).toBe('gradient-boosted-trees');
  });

  it('beats both baselines on the evaluation deliveries, and says by how much', () => {
    const e = outcome.evaluation;
    expect(e.model.mae).toBeLessThan(e.distanceOverSpeed.mae);
    expect(e.model.mae).toBeLessThan(e.routeHourSpeed.mae);
    expect(e.maeRatioToBestBaseline).toBeCloseTo(
      e.model.mae / Math.min(e.distanceOverSpeed.mae, e.routeHourSpeed.mae),
      12,
    );
    expect(outcome.model.metrics).toMatchObject({
      mae: e.model.mae,
      rmse: e.model.rmse,
      baseline_distance_speed_mae: e.distanceOverSpeed.mae,
      baseline_route_hour_mae: e.routeHourSpeed.mae,
      interval_coverage: e.model.intervalCoverage,
      [DATA_TO_METRIC]: Math.max(...examples.map((x) => x.actualArrival)),
    });
  });

  it('publishes what it measured: the served evaluation gives the reported MAE', () => {
    const model = outcome.model;
    expect(isServableEtaModel(model)).toBe(true);
    expect(model.trainedAt).toBe(NOW);
    expect(model.interval?.coverage).toBe(0.9);
    const evaluated = examples
      .filter((x) => x.actualArrival >= outcome.split.evaluation.from)
      .flatMap((x) => x.checkpoints);
    const mae =
      evaluated.reduce(
        (s, c) =>
          s + Math.abs(c.minutesToArrival - (predictMinutes(model, checkpointFeatures(c)) ?? 0)),
        0,
      ) / evaluated.length;
    expect(mae).toBeCloseTo(outcome.evaluation.model.mae, 9);
  });

  it('promotes without a champion; then only a challenger better by the margin', () => {
    expect(outcome.promotion).toEqual({ promote: true, reason: 'no servable champion yet' });
    const champion: EtaModel = { ...outcome.model, version: 4 };
    // The same model again is not better by 2 %: kept.
    const again = trainEtaModel(examples, champion, TRAINING_DEFAULTS, () => NOW);
    expect(again.evaluation.champion?.version).toBe(4);
    expect(again.evaluation.champion?.mae).toBeCloseTo(again.evaluation.model.mae, 9);
    expect(again.promotion.promote).toBe(false);
    expect(again.model.metrics.champion_mae).toBe(again.evaluation.champion?.mae);
    // A poor champion (always 0 minutes) is beaten.
    const poor: EtaModel = {
      ...champion,
      kind: 'LINEAR_REGRESSION',
      featureNames: [],
      coefficients: [],
      intercept: 0,
      trees: [],
    };
    expect(trainEtaModel(examples, poor, TRAINING_DEFAULTS, () => NOW).promotion.promote).toBe(
      true,
    );
  });
});
