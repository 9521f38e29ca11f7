// What every candidate algorithm of a training returns: the part of an EtaModel record that
// says how to predict, so whatever wins is served by the join as it was measured here.
import type { MlAlgorithm } from '../../core/config.ts';
import type { EtaModel } from '../../schemas/types.ts';
import type { TrainingRow } from '../features.ts';

export type EtaModelBody = Pick<
  EtaModel,
  'kind' | 'featureNames' | 'coefficients' | 'intercept' | 'trees'
>;

export interface TrainedCandidate {
  body: EtaModelBody;
  /** Hyper-parameters, logged to MLflow as the run's params. */
  params: Record<string, string | number>;
  /** Checkpoints it learned from (fewer than offered when the algorithm samples). */
  trainedOn: number;
}

export interface EtaAlgorithm {
  name: MlAlgorithm;
  /** Pure and deterministic for the same rows. */
  train(rows: readonly TrainingRow[]): TrainedCandidate;
}

/** A deterministic PRNG (mulberry32): samples and subsamples repeat for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** At most `max` rows, drawn evenly at random (reservoir sampling), in their original order. */
export function sampleRows<T>(rows: readonly T[], max: number, seed: number): T[] {
  if (rows.length <= max) return [...rows];
  const random = seededRandom(seed);
  const picked = Array.from({ length: max }, (_, i) => i);
  for (let i = max; i < rows.length; i++) {
    const j = Math.floor(random() * (i + 1));
    if (j < max) picked[j] = i;
  }
  return picked.sort((a, b) => a - b).map((i) => rows[i] as T);
}
