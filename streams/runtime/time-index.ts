// A secondary index of a store's entries by a time each value names (when it expires, when it is
// due): "which keys are due before t" costs the due entries, not a copy and sort of the whole
// store. Entries sit in buckets of `granularityMs`; only the buckets below t are looked at.

export class TimeIndex {
  private readonly granularityMs: number;
  private readonly times = new Map<string, number>();
  private readonly buckets = new Map<number, Set<string>>();
  /** Bucket numbers in ascending order (few: one per granule that holds an entry). */
  private order: number[] = [];

  constructor(granularityMs = 1_000) {
    if (!(granularityMs > 0))
      throw new RangeError(`granularity must be positive, got ${granularityMs}`);
    this.granularityMs = granularityMs;
  }

  get size(): number {
    return this.times.size;
  }

  timeOf(id: string): number | undefined {
    return this.times.get(id);
  }

  set(id: string, time: number): void {
    const known = this.times.get(id);
    if (known === time) return;
    if (known !== undefined) this.removeFromBucket(id, known);
    this.times.set(id, time);
    const bucket = this.bucketOf(time);
    let ids = this.buckets.get(bucket);
    if (!ids) {
      ids = new Set();
      this.buckets.set(bucket, ids);
      this.order.splice(insertionPoint(this.order, bucket), 0, bucket);
    }
    ids.add(id);
  }

  remove(id: string): void {
    const known = this.times.get(id);
    if (known === undefined) return;
    this.times.delete(id);
    this.removeFromBucket(id, known);
  }

  /** Ids whose time is below `before`, earliest first (ties by id, so the order is stable). */
  idsBefore(before: number): string[] {
    const due: [number, string][] = [];
    for (const bucket of this.order) {
      if (bucket * this.granularityMs >= before) break;
      for (const id of this.buckets.get(bucket) ?? []) {
        const time = this.times.get(id);
        if (time !== undefined && time < before) due.push([time, id]);
      }
    }
    return due
      .sort(([ta, a], [tb, b]) => ta - tb || (a < b ? -1 : a > b ? 1 : 0))
      .map(([, id]) => id);
  }

  /** The earliest time indexed, if any. */
  earliest(): number | undefined {
    const first = this.order[0];
    if (first === undefined) return undefined;
    let min: number | undefined;
    for (const id of this.buckets.get(first) ?? []) {
      const time = this.times.get(id);
      if (time !== undefined && (min === undefined || time < min)) min = time;
    }
    return min;
  }

  clear(): void {
    this.times.clear();
    this.buckets.clear();
    this.order = [];
  }

  private bucketOf(time: number): number {
    return Math.floor(time / this.granularityMs);
  }

  private removeFromBucket(id: string, time: number): void {
    const bucket = this.bucketOf(time);
    const ids = this.buckets.get(bucket);
    if (!ids) return;
    ids.delete(id);
    if (ids.size > 0) return;
    this.buckets.delete(bucket);
    const at = insertionPoint(this.order, bucket);
    if (this.order[at] === bucket) this.order.splice(at, 1);
  }
}

/** First position in sorted `values` whose value is ≥ `value`. */
function insertionPoint(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
