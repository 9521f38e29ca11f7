// Split-conformal prediction intervals: residuals of held-out deliveries the model never saw,
// scaled with the prediction (an ETA two hours out is less certain than one five minutes out),
// give quantiles that hold the requested coverage on new deliveries as long as they resemble the
// calibration ones. Asymmetric on purpose: delays (stops, exceptions) make late arrivals more
// likely than early ones. The join turns the result into times with `intervalMinutes`.
import type { EtaInterval } from '../schemas/types.ts';

export interface ConformalOptions {
  /** e.g. 0.9: 5 % of arrivals may fall below the interval and 5 % above. */
  coverage: number;
  /** Minutes added to the prediction before scaling, so intervals near arrival keep a width. */
  scaleOffsetMinutes: number;
}

export const CONFORMAL_DEFAULTS: ConformalOptions = { coverage: 0.9, scaleOffsetMinutes: 20 };

/** The k-th smallest (1-based) of sorted values, k clamped to the data. */
function orderStatistic(sorted: Float64Array, k: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, k)) - 1] as number;
}

/**
 * Quantiles of the scaled residuals (actual − predicted) / (predicted + offset), with the
 * finite-sample correction of split conformal prediction: the ⌊(n+1)·α/2⌋-th and
 * ⌈(n+1)·(1−α/2)⌉-th smallest of n scores.
 */
export function calibrateInterval(
  predicted: readonly number[],
  actual: readonly number[],
  options: ConformalOptions,
): Omit<EtaInterval, 'measuredCoverage'> {
  const n = actual.length;
  if (n === 0 || predicted.length !== n)
    throw new RangeError(`cannot calibrate on ${predicted.length} predictions and ${n} labels`);
  const scores = Float64Array.from(actual, (y, i) => {
    const m = predicted[i] as number;
    return (y - m) / (m + options.scaleOffsetMinutes);
  }).sort();
  const alpha = 1 - options.coverage;
  // 1 − 0.9 is 0.09999…: without the nudge, (n+1)·α/2 = 2 would round down to 1.
  const EPS = 1e-9;
  return {
    coverage: options.coverage,
    lowerScore: orderStatistic(scores, Math.floor((n + 1) * (alpha / 2) + EPS)),
    upperScore: orderStatistic(scores, Math.ceil((n + 1) * (1 - alpha / 2) - EPS)),
    scaleOffsetMinutes: options.scaleOffsetMinutes,
  };
}
