// ETA from the models the trainer publishes to eta.models (a global store, key = model name),
// evaluated as schemas/eta-model-evaluation.ts says, on the features of schemas/eta-features.ts
// (the ones the trainer trained on). Until a usable model of the chosen name is there — none
// yet, a BASELINE kind, or features the join does not compute — the baseline predicts, so the
// join never waits for training. The store follows the topic, so a newly published model
// serves from the next prediction on, without a restart.
import { etaFeatures } from '../../schemas/eta-features.ts';
import {
  intervalMinutes,
  isServableEtaModel,
  predictMinutes,
  type PublishedEtaModel,
} from '../../schemas/eta-model-evaluation.ts';
import type { EtaModel } from '../../schemas/types.ts';
import type { ReadOnlyKeyValueStore } from '../runtime/state-store.ts';
import type { EtaPrediction, EtaPredictor, EtaQuery } from './eta-predictor.ts';

/** The global store the join reads eta.models into. */
export const ETA_MODELS_STORE = 'eta-models';

export interface PublishedModelOptions {
  /** Which model family serves (the key on eta.models; CONTINUUM_ML_MODEL_NAME). */
  modelName: string;
  /** Without a conformal interval: half-width in RMSEs of the model's evaluation (1.28 ≈ 80 %). */
  intervalRmses: number;
  /** Interval half-width when the model reports neither: this fraction of the remaining time … */
  fallbackIntervalFraction: number;
  /** … plus this much. */
  fallbackIntervalFixedMs: number;
}

export const PUBLISHED_MODEL_DEFAULTS: PublishedModelOptions = {
  modelName: 'eta',
  intervalRmses: 1.28,
  fallbackIntervalFraction: 0.2,
  fallbackIntervalFixedMs: 5 * 60_000,
};

/** Whether the join can evaluate `model` (a linear or tree model over features it computes). */
export function isServable(model: PublishedEtaModel): boolean {
  return isServableEtaModel(model);
}

export class PublishedModelEtaPredictor implements EtaPredictor {
  private readonly models: ReadOnlyKeyValueStore<string, EtaModel>;
  private readonly fallback: EtaPredictor;
  private readonly options: PublishedModelOptions;
  /** Checking a tree model walks every node: once per published record, not per prediction. */
  private readonly servable = new WeakMap<object, boolean>();

  constructor(
    models: ReadOnlyKeyValueStore<string, EtaModel>,
    fallback: EtaPredictor,
    options: Partial<PublishedModelOptions> = {},
  ) {
    this.models = models;
    this.fallback = fallback;
    this.options = { ...PUBLISHED_MODEL_DEFAULTS, ...options };
  }

  private canServe(model: EtaModel): boolean {
    let ok = this.servable.get(model);
    if (ok === undefined) {
      ok = isServable(model);
      this.servable.set(model, ok);
    }
    return ok;
  }

  predict(query: EtaQuery): EtaPrediction {
    const model = this.models.get(this.options.modelName);
    if (!model || !this.canServe(model)) return this.fallback.predict(query);
    const minutes = predictMinutes(model, etaFeatures(query));
    if (minutes === undefined) return this.fallback.predict(query);
    const remainingMs = minutes * 60_000;
    const arrival = Math.round(query.at + remainingMs);
    const conformal = intervalMinutes(model.interval, minutes);
    if (conformal) {
      return {
        arrival,
        low: Math.max(query.at, Math.round(query.at + conformal.low * 60_000)),
        high: Math.round(query.at + conformal.high * 60_000),
        modelVersion: modelVersionOf(model),
      };
    }
    const rmse = model.metrics.rmse;
    const margin =
      rmse !== undefined && Number.isFinite(rmse) && rmse > 0
        ? rmse * this.options.intervalRmses * 60_000
        : remainingMs * this.options.fallbackIntervalFraction +
          this.options.fallbackIntervalFixedMs;
    return {
      arrival,
      low: Math.max(query.at, Math.round(arrival - margin)),
      high: Math.round(arrival + margin),
      modelVersion: modelVersionOf(model),
    };
  }
}

/** What a state's `modelVersion` says: `<model name>-v<version>` (the MLflow registry version). */
export function modelVersionOf(model: Pick<EtaModel, 'modelName' | 'version'>): string {
  return `${model.modelName}-v${model.version}`;
}
