// Accuracy figures of predicted vs actual minutes to arrival.

export interface AccuracyMetrics {
  /** Mean absolute error, minutes. */
  mae: number;
  /** Root mean squared error, minutes. */
  rmse: number;
  /** 1 − SSE/SST: the share of the labels' variance explained. */
  r2: number;
  /** How many checkpoints were measured. */
  n: number;
}

export function accuracy(predicted: readonly number[], actual: readonly number[]): AccuracyMetrics {
  const n = actual.length;
  if (n === 0 || predicted.length !== n)
    throw new RangeError(`cannot measure ${predicted.length} predictions against ${n} labels`);
  let abs = 0;
  let sq = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = (actual[i] as number) - (predicted[i] as number);
    abs += Math.abs(e);
    sq += e * e;
    sum += actual[i] as number;
  }
  const mean = sum / n;
  let sst = 0;
  for (const y of actual) sst += (y - mean) ** 2;
  return { mae: abs / n, rmse: Math.sqrt(sq / n), r2: sst > 0 ? 1 - sq / sst : 0, n };
}

/** Share of actual values inside [low, high]. */
export function coverage(
  intervals: readonly { low: number; high: number }[],
  actual: readonly number[],
): number {
  if (actual.length === 0) return Number.NaN;
  let inside = 0;
  actual.forEach((y, i) => {
    const interval = intervals[i];
    if (interval && y >= interval.low && y <= interval.high) inside += 1;
  });
  return inside / actual.length;
}
