// What a trained model has to beat, measured on the same holdout: the join's own distance ÷
// speed baseline (`baseline-v1`), and distance ÷ the historical mean speed of the route at that
// hour, learned from the training deliveries.
import { BASELINE_SPEED_RULE, baselineSpeedKmh } from '../schemas/eta-features.ts';
import type { TrainingRow } from './features.ts';

export interface MinutesPredictor {
  predict(row: TrainingRow): number;
}

/** The join's baseline: remaining distance ÷ current speed (floored; typical when stopped). */
export const distanceOverSpeedBaseline: MinutesPredictor = {
  predict: (row) =>
    (row.features.distanceRemainingKm /
      baselineSpeedKmh(row.features.speedKmh, BASELINE_SPEED_RULE)) *
    60,
};

interface SpeedSum {
  km: number;
  hours: number;
}

/** Below this many hours of history a group's mean speed is not trusted; the next coarser one is. */
const MIN_HOURS = 0.5;

/**
 * Remaining distance ÷ the mean speed of the remaining part of trips on the same route (depot →
 * destination) at the same hour (UTC) of the day, as Σ km ÷ Σ hours over the training
 * checkpoints. A route or hour with too little history falls back to the route at any hour,
 * then the hour on any route, then all trips.
 */
export class RouteHourSpeedBaseline implements MinutesPredictor {
  private readonly speeds = new Map<string, SpeedSum>();

  static fit(rows: readonly TrainingRow[]): RouteHourSpeedBaseline {
    const baseline = new RouteHourSpeedBaseline();
    for (const row of rows) {
      if (row.label <= 0) continue;
      for (const key of RouteHourSpeedBaseline.keys(row)) {
        const sum = baseline.speeds.get(key) ?? { km: 0, hours: 0 };
        sum.km += row.features.distanceRemainingKm;
        sum.hours += row.label / 60;
        baseline.speeds.set(key, sum);
      }
    }
    return baseline;
  }

  private static keys(row: TrainingRow): string[] {
    const route = `${row.delivery.originId}>${row.delivery.destinationId}`;
    const hour = row.checkpoint.hourOfDay;
    return [`${route}@${hour}`, route, `*@${hour}`, '*'];
  }

  /** Mean speed (km/h) for the row's route and hour, from the finest group with enough history. */
  speedKmh(row: TrainingRow): number | undefined {
    for (const key of RouteHourSpeedBaseline.keys(row)) {
      const sum = this.speeds.get(key);
      if (sum && sum.hours >= MIN_HOURS && sum.km > 0) return sum.km / sum.hours;
    }
    return undefined;
  }

  predict(row: TrainingRow): number {
    const speed = this.speedKmh(row);
    return speed === undefined ? 0 : (row.features.distanceRemainingKm / speed) * 60;
  }
}
