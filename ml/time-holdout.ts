// A time-based holdout: the latest deliveries (by actual arrival) are kept out of training, as
// the model will meet deliveries later than any it learned from. Whole deliveries go to one
// side, so no checkpoint of a held-out trip leaks into training. The holdout's earlier half
// picks the algorithm and calibrates the intervals; its later half measures everything, once.
import type { DeliveryExample } from '../schemas/types.ts';

export interface TimeHoldout {
  train: DeliveryExample[];
  /** Selects the algorithm and calibrates the conformal interval. */
  calibration: DeliveryExample[];
  /** Measures the model, the baselines and the champion; used for nothing else. */
  evaluation: DeliveryExample[];
}

export class HoldoutError extends Error {
  override readonly name = 'HoldoutError';
}

/** Oldest to newest by actual arrival (shipment id breaks ties, so the split is repeatable). */
export function byArrival(examples: readonly DeliveryExample[]): DeliveryExample[] {
  return [...examples].sort(
    (a, b) => a.actualArrival - b.actualArrival || a.shipmentId.localeCompare(b.shipmentId),
  );
}

export function splitByArrival(
  examples: readonly DeliveryExample[],
  holdoutFraction: number,
): TimeHoldout {
  const sorted = byArrival(examples);
  const held = Math.round(sorted.length * holdoutFraction);
  const calibrationSize = Math.floor(held / 2);
  const trainSize = sorted.length - held;
  if (calibrationSize < 1 || held - calibrationSize < 1 || trainSize < 1)
    throw new HoldoutError(
      `${sorted.length} deliveries cannot be split into training, calibration and evaluation with a holdout of ${holdoutFraction}`,
    );
  return {
    train: sorted.slice(0, trainSize),
    calibration: sorted.slice(trainSize, trainSize + calibrationSize),
    evaluation: sorted.slice(trainSize + calibrationSize),
  };
}
