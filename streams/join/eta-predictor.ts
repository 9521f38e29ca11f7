// The ETA port of the join: a predictor turns trip features into an arrival time with an
// interval. The baseline needs no training; trained models (eta.models) plug in behind it.
import {
  BASELINE_SPEED_RULE,
  baselineSpeedKmh,
  type BaselineSpeedRule,
} from '../../schemas/eta-features.ts';
import type { TripFeatures } from './trip-features.ts';

export interface EtaQuery extends TripFeatures {
  /** Event time the features describe (the vehicle's latest reading). */
  at: number;
}

export interface EtaPrediction {
  arrival: number;
  low: number;
  high: number;
  modelVersion: string;
}

export interface EtaPredictor {
  /** Pure and synchronous: the join calls it inside processing. */
  predict(query: EtaQuery): EtaPrediction;
}

/** The speed rule is shared with the trainer, which measures this baseline beside its models. */
export interface BaselineEtaOptions extends BaselineSpeedRule {
  /** Interval half-width: this fraction of the remaining time … */
  intervalFraction: number;
  /** … plus this much. */
  intervalFixedMs: number;
  modelVersion: string;
}

export const BASELINE_ETA_DEFAULTS: BaselineEtaOptions = {
  ...BASELINE_SPEED_RULE,
  intervalFraction: 0.2,
  intervalFixedMs: 5 * 60_000,
  modelVersion: 'baseline-v1',
};

/** Remaining distance ÷ current speed (floored; a typical speed when stopped), ±(20 % + 5 min). */
export class BaselineEtaPredictor implements EtaPredictor {
  private readonly options: BaselineEtaOptions;

  constructor(options: Partial<BaselineEtaOptions> = {}) {
    this.options = { ...BASELINE_ETA_DEFAULTS, ...options };
  }

  predict(query: EtaQuery): EtaPrediction {
    const o = this.options;
    const speed = baselineSpeedKmh(query.speedKmh, o);
    const remainingMs = (query.distanceRemainingKm / speed) * 3_600_000;
    const margin = remainingMs * o.intervalFraction + o.intervalFixedMs;
    const arrival = Math.round(query.at + remainingMs);
    return {
      arrival,
      // Nothing arrives before now.
      low: Math.max(query.at, Math.round(arrival - margin)),
      high: Math.round(arrival + margin),
      modelVersion: o.modelVersion,
    };
  }
}
