// The champion's accuracy on deliveries completed after everything it learned from: the live
// side of the drift gauge. Kept over the latest `maxCheckpoints` checkpoints.
import { predictMinutes, type PublishedEtaModel } from '../schemas/eta-model-evaluation.ts';
import type { DeliveryExample } from '../schemas/types.ts';
import { checkpointFeatures } from './features.ts';

/** Metric key of the newest arrival a model's training run saw (training, calibration, evaluation). */
export const DATA_TO_METRIC = 'data_to_epoch_ms';

export class LiveAccuracy {
  private readonly maxCheckpoints: number;
  private errors: number[] = [];
  private sum = 0;

  constructor(maxCheckpoints: number) {
    this.maxCheckpoints = maxCheckpoints;
  }

  /** A new champion: its live accuracy starts from nothing. */
  reset(): void {
    this.errors = [];
    this.sum = 0;
  }

  /** Measures `champion` on a completed delivery, if the delivery is newer than its data. */
  observe(example: DeliveryExample, champion: PublishedEtaModel | undefined): boolean {
    if (!champion) return false;
    const seenUpTo = champion.metrics[DATA_TO_METRIC];
    if (seenUpTo !== undefined && example.actualArrival <= seenUpTo) return false;
    for (const checkpoint of example.checkpoints) {
      const predicted = predictMinutes(champion, checkpointFeatures(checkpoint));
      if (predicted === undefined) return false;
      const error = Math.abs(checkpoint.minutesToArrival - predicted);
      this.errors.push(error);
      this.sum += error;
    }
    const excess = this.errors.length - this.maxCheckpoints;
    if (excess > 0) {
      for (const e of this.errors.splice(0, excess)) this.sum -= e;
    }
    return true;
  }

  get checkpoints(): number {
    return this.errors.length;
  }

  /** NaN before any checkpoint. */
  get mae(): number {
    return this.errors.length === 0 ? Number.NaN : this.sum / this.errors.length;
  }
}
