// The ETA model's features, in one place for training and serving: the join computes a trip's
// snapshot with `tripFeatures` for its checkpoints (training data) and for its predictions, and
// both the trainer (ml/) and the join's model predictor (streams/join/) turn a snapshot into
// model features with `etaFeatures`. It lives beside the EtaModel contract, whose featureNames
// name these features, because streams/ may not import ml/ (data flows streams → ml).
import type { DeliveryCheckpoint } from './types.ts';

/** A trip at one moment: what a DeliveryCheckpoint records besides its time and label. */
export interface TripFeatures {
  /** Road distance still to go (haversine × 1.25), km, rounded to metres. */
  distanceRemainingKm: number;
  /** Distance driven since pickup, km, rounded to metres. */
  distanceTravelledKm: number;
  speedKmh: number;
  /** Distance travelled ÷ time since pickup; 0 right at pickup. */
  avgSpeedKmh: number;
  /** Hour, 0–23, UTC (as the DeliveryExample contract says; a fixed zone offset is the model's to learn). */
  hourOfDay: number;
  /** Day, 0 = Sunday … 6 = Saturday, UTC. */
  dayOfWeek: number;
  /** Minutes since pickup. */
  elapsedMin: number;
}

/** A trip's features with the event time they describe: a checkpoint without its label. */
export interface TripSnapshot extends TripFeatures {
  at: number;
}

/**
 * The snapshot of a trip at `at`. Distances are rounded to metres here, before anything is
 * derived from them, so a checkpoint (which stores them rounded) and a live prediction from the
 * same reading give the same features, bit for bit.
 */
export function tripFeatures(input: {
  at: number;
  pickedUpAt: number;
  distanceRemainingKm: number;
  distanceTravelledKm: number;
  speedKmh: number;
}): TripFeatures {
  const elapsedMin = Math.max(0, (input.at - input.pickedUpAt) / 60_000);
  const travelled = roundKm(input.distanceTravelledKm);
  const utc = new Date(input.at);
  return {
    distanceRemainingKm: roundKm(input.distanceRemainingKm),
    distanceTravelledKm: travelled,
    speedKmh: input.speedKmh,
    avgSpeedKmh: elapsedMin > 0 ? round3(travelled / (elapsedMin / 60)) : 0,
    hourOfDay: utc.getUTCHours(),
    dayOfWeek: utc.getUTCDay(),
    elapsedMin: round3(elapsedMin),
  };
}

/** The snapshot a training checkpoint holds (its label left out). */
export function snapshotOfCheckpoint(checkpoint: DeliveryCheckpoint): TripSnapshot {
  const { checkpointTime, minutesToArrival: _label, ...features } = checkpoint;
  return { at: checkpointTime, ...features };
}

/** How the distance ÷ speed baseline picks a speed from the current one. */
export interface BaselineSpeedRule {
  /** Speeds below this are treated as this, so a crawl does not predict days. */
  minSpeedKmh: number;
  /** Below this the vehicle is stopped (traffic light, break): assume `typicalSpeedKmh`. */
  stoppedBelowKmh: number;
  typicalSpeedKmh: number;
}

/** The join's baseline (`baseline-v1`) and the trainer's distance ÷ speed baseline use this. */
export const BASELINE_SPEED_RULE: BaselineSpeedRule = {
  minSpeedKmh: 20,
  stoppedBelowKmh: 5,
  typicalSpeedKmh: 60,
};

export function baselineSpeedKmh(speedKmh: number, rule: BaselineSpeedRule): number {
  return speedKmh < rule.stoppedBelowKmh
    ? rule.typicalSpeedKmh
    : Math.max(speedKmh, rule.minSpeedKmh);
}

/**
 * The model features, in the order models list them. The snapshot's own fields, plus what a
 * model cannot easily form from them itself: a tree splits on one feature at a time, so
 * ratios (time at the current or average speed) and the route's length must be given.
 */
export const ETA_FEATURE_NAMES = [
  'distanceRemainingKm',
  'distanceTravelledKm',
  'speedKmh',
  'avgSpeedKmh',
  'elapsedMin',
  'dayOfWeek',
  /** UTC hours with their fraction: rush hours start and end within an hour. */
  'timeOfDayHours',
  /** Travelled + remaining: the route's length, which decides its road classes. */
  'routeKm',
  /** Travelled ÷ route length, 0–1. */
  'routeProgress',
  /** Remaining distance at the current speed (the baseline's rule), minutes. */
  'minutesAtCurrentSpeed',
  /** Remaining distance at the trip's average speed (same rule), minutes. */
  'minutesAtAverageSpeed',
] as const;

export type EtaFeatureName = (typeof ETA_FEATURE_NAMES)[number];
export type EtaFeatures = Record<EtaFeatureName, number>;

const DAY_MS = 86_400_000;

/** The one feature function: the trainer calls it per checkpoint, the join per prediction. */
export function etaFeatures(snapshot: TripSnapshot): EtaFeatures {
  const remaining = snapshot.distanceRemainingKm;
  const travelled = snapshot.distanceTravelledKm;
  const routeKm = travelled + remaining;
  return {
    distanceRemainingKm: remaining,
    distanceTravelledKm: travelled,
    speedKmh: snapshot.speedKmh,
    avgSpeedKmh: snapshot.avgSpeedKmh,
    elapsedMin: snapshot.elapsedMin,
    dayOfWeek: snapshot.dayOfWeek,
    timeOfDayHours: (((snapshot.at % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000,
    routeKm,
    routeProgress: routeKm > 0 ? travelled / routeKm : 0,
    minutesAtCurrentSpeed:
      (remaining / baselineSpeedKmh(snapshot.speedKmh, BASELINE_SPEED_RULE)) * 60,
    minutesAtAverageSpeed:
      (remaining / baselineSpeedKmh(snapshot.avgSpeedKmh, BASELINE_SPEED_RULE)) * 60,
  };
}

const KNOWN: ReadonlySet<string> = new Set(ETA_FEATURE_NAMES);

export function isEtaFeatureName(name: string): name is EtaFeatureName {
  return KNOWN.has(name);
}

/** The features a model lists, in its order; undefined when it names one this code does not compute. */
export function etaFeatureVector(
  features: EtaFeatures,
  names: readonly string[],
): number[] | undefined {
  const vector: number[] = [];
  for (const name of names) {
    if (!isEtaFeatureName(name)) return undefined;
    vector.push(features[name]);
  }
  return vector;
}

export function roundKm(km: number): number {
  return Math.round(km * 1000) / 1000;
}

/** Features are measurements, not float noise. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
