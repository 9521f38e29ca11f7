// The arithmetic of the pipeline benchmark, apart from any I/O so it is unit-tested: percentiles,
// when a consumer group has drained a partition, and how many records a paced producer owes.

/** Nearest-rank percentile of ascending `sorted` values; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** How many records a producer pacing `ratePerSecond` owes after `elapsedMs` (all of them sent or not). */
export function recordsDue(ratePerSecond: number, elapsedMs: number): number {
  return Math.floor((ratePerSecond * Math.max(0, elapsedMs)) / 1000);
}

/** Parses a committed or end offset as kafkajs reports it ('-1' or '' for none). */
export function parseOffset(offset: string | undefined): bigint | undefined {
  if (offset === undefined || offset === '' || offset === '-1') return undefined;
  return BigInt(offset);
}

export function mebibytes(bytes: number): number {
  return bytes / 2 ** 20;
}

/** The arithmetic mean; NaN when there are no values. */
export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** A function returning `items` one after another, from the first again after the last. */
export function roundRobin<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new RangeError('nothing to go round');
  let next = 0;
  return () => {
    const item = items[next % items.length] as T;
    next += 1;
    return item;
  };
}
