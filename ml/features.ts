// The trainer's view of the ETA features: the one feature function (schemas/eta-features.ts,
// which the join's serving path calls too) applied to every checkpoint of a delivery.
import {
  etaFeatures,
  etaFeatureVector,
  snapshotOfCheckpoint,
  type EtaFeatures,
} from '../schemas/eta-features.ts';
import type { DeliveryCheckpoint, DeliveryExample } from '../schemas/types.ts';

export {
  ETA_FEATURE_NAMES,
  etaFeatures,
  etaFeatureVector,
  snapshotOfCheckpoint,
  tripFeatures,
  type EtaFeatureName,
  type EtaFeatures,
  type TripSnapshot,
} from '../schemas/eta-features.ts';

/** One checkpoint of one delivery, as training and evaluation see it. */
export interface TrainingRow {
  features: EtaFeatures;
  /** Minutes from the checkpoint to the actual arrival. */
  label: number;
  checkpoint: DeliveryCheckpoint;
  delivery: Pick<DeliveryExample, 'shipmentId' | 'originId' | 'destinationId' | 'actualArrival'>;
}

/** The features the join would compute at this checkpoint's reading. */
export function checkpointFeatures(checkpoint: DeliveryCheckpoint): EtaFeatures {
  return etaFeatures(snapshotOfCheckpoint(checkpoint));
}

export function trainingRows(examples: readonly DeliveryExample[]): TrainingRow[] {
  return examples.flatMap((example) => {
    const delivery = {
      shipmentId: example.shipmentId,
      originId: example.originId,
      destinationId: example.destinationId,
      actualArrival: example.actualArrival,
    };
    return example.checkpoints.map((checkpoint) => ({
      features: checkpointFeatures(checkpoint),
      label: checkpoint.minutesToArrival,
      checkpoint,
      delivery,
    }));
  });
}

/** Rows as a matrix over `names` (every name is one of ETA_FEATURE_NAMES). */
export function featureMatrix(rows: readonly TrainingRow[], names: readonly string[]): number[][] {
  return rows.map((row) => {
    const vector = etaFeatureVector(row.features, names);
    if (!vector) throw new Error(`unknown feature among ${names.join(', ')}`);
    return vector;
  });
}
