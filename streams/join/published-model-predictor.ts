// ETA from the models the trainer publishes to eta.models (a global store, key = model name):
// minutes to arrival = intercept + Σ coefficient × feature. Until a usable model of the chosen
// name is there — none yet, a BASELINE kind, or features the join does not compute — the
// baseline predicts, so the join never waits for training.
import type { EtaModel } from '../../schemas/types.ts';
import type { ReadOnlyKeyValueStore } from '../runtime/state-store.ts';
import type { EtaPrediction, EtaPredictor, EtaQuery } from './eta-predictor.ts';
import type { TripFeatures } from './trip-features.ts';

/** The global store the join reads eta.models into. */
export const ETA_MODELS_STORE = 'eta-models';

export interface PublishedModelOptions {
  /** Which model family serves (the key on eta.models). */
  modelName: string;
  /** Half-width of the interval in RMSEs of the model's held-out evaluation (1.28 ≈ 80 %). */
  intervalRmses: number;
  /** Interval half-width when the model reports no RMSE: this fraction of the remaining time … */
  fallbackIntervalFraction: number;
  /** … plus this much. */
  fallbackIntervalFixedMs: number;
}

export const PUBLISHED_MODEL_DEFAULTS: PublishedModelOptions = {
  modelName: 'eta-linear',
  intervalRmses: 1.28,
  fallbackIntervalFraction: 0.2,
  fallbackIntervalFixedMs: 5 * 60_000,
};

const FEATURES: ReadonlySet<string> = new Set<keyof TripFeatures>([
  'distanceRemainingKm',
  'distanceTravelledKm',
  'speedKmh',
  'avgSpeedKmh',
  'hourOfDay',
  'dayOfWeek',
  'elapsedMin',
]);

/** Whether the join can evaluate `model`: a linear model over features it computes. */
export function isServable(model: EtaModel): boolean {
  return (
    model.kind === 'LINEAR_REGRESSION' &&
    model.featureNames.length === model.coefficients.length &&
    model.featureNames.every((f) => FEATURES.has(f)) &&
    [model.intercept, ...model.coefficients].every(Number.isFinite)
  );
}

export class PublishedModelEtaPredictor implements EtaPredictor {
  private readonly models: ReadOnlyKeyValueStore<string, EtaModel>;
  private readonly fallback: EtaPredictor;
  private readonly options: PublishedModelOptions;

  constructor(
    models: ReadOnlyKeyValueStore<string, EtaModel>,
    fallback: EtaPredictor,
    options: Partial<PublishedModelOptions> = {},
  ) {
    this.models = models;
    this.fallback = fallback;
    this.options = { ...PUBLISHED_MODEL_DEFAULTS, ...options };
  }

  predict(query: EtaQuery): EtaPrediction {
    const model = this.models.get(this.options.modelName);
    if (!model || !isServable(model)) return this.fallback.predict(query);
    const features = query as unknown as Record<string, number>;
    let minutes = model.intercept;
    model.featureNames.forEach((name, i) => {
      minutes += (model.coefficients[i] ?? 0) * (features[name] ?? 0);
    });
    // A linear model can go below zero near the destination; nothing arrives in the past.
    const remainingMs = Math.max(0, minutes) * 60_000;
    const rmse = model.metrics.rmse;
    const margin =
      rmse !== undefined && Number.isFinite(rmse) && rmse > 0
        ? rmse * this.options.intervalRmses * 60_000
        : remainingMs * this.options.fallbackIntervalFraction +
          this.options.fallbackIntervalFixedMs;
    const arrival = Math.round(query.at + remainingMs);
    return {
      arrival,
      low: Math.max(query.at, Math.round(arrival - margin)),
      high: Math.round(arrival + margin),
      modelVersion: `${model.modelName}-v${model.version}`,
    };
  }
}
