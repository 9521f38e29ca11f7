// One training, without I/O: the window's deliveries split by time, every candidate algorithm
// trained on the older part, the best on the calibration part kept, its conformal interval
// calibrated there, and then everything measured once on the newest part — the model, the
// join's baseline, the route-and-hour baseline and the current champion — with the verdict on
// promotion. Predictions go through schemas/eta-model-evaluation.ts, as the join's do.
import type { MlAlgorithm } from '../core/config.ts';
import {
  intervalMinutes,
  isServableEtaModel,
  predictMinutes,
  type PublishedEtaModel,
} from '../schemas/eta-model-evaluation.ts';
import type { DeliveryExample, EtaModel } from '../schemas/types.ts';
import {
  distanceOverSpeedBaseline,
  RouteHourSpeedBaseline,
  type MinutesPredictor,
} from './baselines.ts';
import { calibrateInterval, CONFORMAL_DEFAULTS } from './conformal-interval.ts';
import { accuracy, coverage, type AccuracyMetrics } from './evaluation-metrics.ts';
import { DATA_TO_METRIC } from './live-accuracy.ts';
import { trainingRows, type TrainingRow } from './features.ts';
import type { EtaAlgorithm, EtaModelBody } from './models/eta-algorithm.ts';
import { gradientBoostedTrees } from './models/gradient-boosted-trees.ts';
import { linearRegression } from './models/linear-regression.ts';
import { randomForest, regressionTree } from './models/ml-cart-trees.ts';
import { splitByArrival } from './time-holdout.ts';

export interface TrainingOptions {
  modelName: string;
  holdoutFraction: number;
  intervalCoverage: number;
  /** The challenger's MAE must be at most (1 − margin) × the champion's. */
  promotionMargin: number;
  algorithms: readonly MlAlgorithm[];
  /** Minutes added to a prediction before its residual is scaled (conformal interval). */
  intervalScaleOffsetMinutes: number;
}

export const TRAINING_DEFAULTS: TrainingOptions = {
  modelName: 'eta',
  holdoutFraction: 0.3,
  intervalCoverage: 0.9,
  promotionMargin: 0.02,
  algorithms: ['linear', 'gradient-boosted-trees'],
  intervalScaleOffsetMinutes: CONFORMAL_DEFAULTS.scaleOffsetMinutes,
};

export function algorithmFor(name: MlAlgorithm): EtaAlgorithm {
  switch (name) {
    case 'linear':
      return linearRegression;
    case 'gradient-boosted-trees':
      return gradientBoostedTrees();
    case 'regression-tree':
      return regressionTree();
    case 'random-forest':
      return randomForest();
  }
}

export interface CandidateReport {
  algorithm: MlAlgorithm;
  /** On the calibration deliveries, where the winner is picked. */
  selection: AccuracyMetrics;
  trainSeconds: number;
  trainedOn: number;
  params: Record<string, string | number>;
}

export interface SplitReport {
  deliveries: number;
  checkpoints: number;
  /** Actual arrivals (epoch ms) of the first and last delivery in the part. */
  from: number;
  to: number;
}

/** One held-out checkpoint, for the plot and the report. */
export interface HoldoutPoint {
  actual: number;
  predicted: number;
  low: number;
  high: number;
  distanceOverSpeed: number;
  routeHourSpeed: number;
}

export interface TrainingOutcome {
  /** The challenger as it would be published; `version` and `mlflowRunId` come at registration. */
  model: EtaModel;
  algorithm: MlAlgorithm;
  candidates: CandidateReport[];
  split: { train: SplitReport; calibration: SplitReport; evaluation: SplitReport };
  /** Everything below is measured on the evaluation deliveries only. */
  evaluation: {
    model: AccuracyMetrics & { intervalCoverage: number; intervalMeanWidth: number };
    distanceOverSpeed: AccuracyMetrics;
    routeHourSpeed: AccuracyMetrics;
    champion: (AccuracyMetrics & { version: number }) | undefined;
    /** Model MAE ÷ the better baseline's MAE. */
    maeRatioToBestBaseline: number;
  };
  promotion: { promote: boolean; reason: string };
  holdout: HoldoutPoint[];
  trainSeconds: number;
}

function splitReport(examples: readonly DeliveryExample[]): SplitReport {
  return {
    deliveries: examples.length,
    checkpoints: examples.reduce((n, e) => n + e.checkpoints.length, 0),
    from: examples[0]?.actualArrival ?? 0,
    to: examples.at(-1)?.actualArrival ?? 0,
  };
}

function modelPredictor(model: PublishedEtaModel): MinutesPredictor {
  return { predict: (row) => predictMinutes(model, row.features) ?? 0 };
}

function measure(predictor: MinutesPredictor, rows: readonly TrainingRow[]): AccuracyMetrics {
  return accuracy(
    rows.map((r) => predictor.predict(r)),
    rows.map((r) => r.label),
  );
}

function bodyAsModel(body: EtaModelBody, modelName: string): EtaModel {
  return {
    ...body,
    modelName,
    version: 0,
    metrics: {},
    mlflowRunId: null,
    trainedAt: 0,
    trainingExamples: 0,
    interval: null,
  };
}

/** Trains and evaluates a challenger on `examples`; `now` stamps the model's trainedAt. */
export function trainEtaModel(
  examples: readonly DeliveryExample[],
  champion: PublishedEtaModel | undefined,
  options: TrainingOptions,
  now: () => number = Date.now,
): TrainingOutcome {
  const started = performance.now();
  const holdout = splitByArrival(examples, options.holdoutFraction);
  const train = trainingRows(holdout.train);
  const calibration = trainingRows(holdout.calibration);
  const evaluation = trainingRows(holdout.evaluation);

  const candidates: (CandidateReport & { body: EtaModelBody })[] = options.algorithms.map(
    (name) => {
      const t0 = performance.now();
      const trained = algorithmFor(name).train(train);
      const trainSeconds = (performance.now() - t0) / 1000;
      return {
        algorithm: name,
        body: trained.body,
        params: trained.params,
        trainedOn: trained.trainedOn,
        trainSeconds,
        selection: measure(
          modelPredictor(bodyAsModel(trained.body, options.modelName)),
          calibration,
        ),
      };
    },
  );
  const best = candidates.reduce((a, b) => (b.selection.mae < a.selection.mae ? b : a));
  const bestModel = bodyAsModel(best.body, options.modelName);
  const predictor = modelPredictor(bestModel);

  const interval = calibrateInterval(
    calibration.map((r) => predictor.predict(r)),
    calibration.map((r) => r.label),
    { coverage: options.intervalCoverage, scaleOffsetMinutes: options.intervalScaleOffsetMinutes },
  );

  const routeHour = RouteHourSpeedBaseline.fit(train);
  const holdoutPoints: HoldoutPoint[] = evaluation.map((row) => {
    const predicted = predictor.predict(row);
    const bounds = intervalMinutes({ ...interval, measuredCoverage: 0 }, predicted) ?? {
      low: predicted,
      high: predicted,
    };
    return {
      actual: row.label,
      predicted,
      low: bounds.low,
      high: bounds.high,
      distanceOverSpeed: distanceOverSpeedBaseline.predict(row),
      routeHourSpeed: routeHour.predict(row),
    };
  });
  const actual = holdoutPoints.map((p) => p.actual);
  const modelAccuracy = accuracy(
    holdoutPoints.map((p) => p.predicted),
    actual,
  );
  const intervalCoverage = coverage(holdoutPoints, actual);
  const intervalMeanWidth =
    holdoutPoints.reduce((s, p) => s + (p.high - p.low), 0) / holdoutPoints.length;
  const distanceOverSpeed = accuracy(
    holdoutPoints.map((p) => p.distanceOverSpeed),
    actual,
  );
  const routeHourSpeed = accuracy(
    holdoutPoints.map((p) => p.routeHourSpeed),
    actual,
  );
  const servableChampion = champion && isServableEtaModel(champion) ? champion : undefined;
  const championAccuracy = servableChampion
    ? {
        ...measure(modelPredictor(servableChampion), evaluation),
        version: servableChampion.version,
      }
    : undefined;
  const bestBaselineMae = Math.min(distanceOverSpeed.mae, routeHourSpeed.mae);

  const threshold = championAccuracy
    ? (1 - options.promotionMargin) * championAccuracy.mae
    : undefined;
  const promotion =
    championAccuracy === undefined || threshold === undefined
      ? { promote: true, reason: 'no servable champion yet' }
      : modelAccuracy.mae <= threshold
        ? {
            promote: true,
            reason: `MAE ${modelAccuracy.mae.toFixed(2)} ≤ ${threshold.toFixed(2)} (champion v${championAccuracy.version}: ${championAccuracy.mae.toFixed(2)}, margin ${options.promotionMargin})`,
          }
        : {
            promote: false,
            reason: `MAE ${modelAccuracy.mae.toFixed(2)} > ${threshold.toFixed(2)} (champion v${championAccuracy.version}: ${championAccuracy.mae.toFixed(2)}, margin ${options.promotionMargin})`,
          };

  const metrics: Record<string, number> = {
    mae: modelAccuracy.mae,
    rmse: modelAccuracy.rmse,
    r2: modelAccuracy.r2,
    interval_coverage: intervalCoverage,
    interval_mean_width_min: intervalMeanWidth,
    baseline_distance_speed_mae: distanceOverSpeed.mae,
    baseline_route_hour_mae: routeHourSpeed.mae,
    mae_ratio_to_best_baseline: modelAccuracy.mae / bestBaselineMae,
    evaluation_checkpoints: modelAccuracy.n,
    // The drift gauge measures the champion only on deliveries after this one.
    [DATA_TO_METRIC]: holdout.evaluation.at(-1)?.actualArrival ?? 0,
  };
  if (championAccuracy) metrics.champion_mae = championAccuracy.mae;

  const trainingCheckpoints = best.trainedOn;
  return {
    model: {
      ...bestModel,
      metrics,
      interval: { ...interval, measuredCoverage: intervalCoverage },
      trainedAt: now(),
      trainingExamples: trainingCheckpoints,
    },
    algorithm: best.algorithm,
    candidates: candidates.map(({ body: _body, ...report }) => report),
    split: {
      train: splitReport(holdout.train),
      calibration: splitReport(holdout.calibration),
      evaluation: splitReport(holdout.evaluation),
    },
    evaluation: {
      model: { ...modelAccuracy, intervalCoverage, intervalMeanWidth },
      distanceOverSpeed,
      routeHourSpeed,
      champion: championAccuracy,
      maeRatioToBestBaseline: modelAccuracy.mae / bestBaselineMae,
    },
    promotion,
    holdout: holdoutPoints,
    trainSeconds: (performance.now() - started) / 1000,
  };
}
