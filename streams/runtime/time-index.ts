// A secondary index of a store's entries by a time each value names (when it expires, when it is
// due): "which keys are due before t" costs the due entries, not a copy and sort of the whole
// store. Entries sit in buckets of `granularityMs`; only the buckets below t are looked at, and
// the one t falls in is kept sorted by time once asked, so a caller that asks after every
// record (the cleaner's dedupe window) reads its due entries, not the whole bucket each time.

/** The ids of one granule, and their sorted view once the granule held the boundary of a query. */
interface Bucket {
  ids: Set<string>;
  /** [time, id] ascending; entries removed or moved since stay, checked as they are read. */
  sorted: [number, string][] | undefined;
  /** Entries of `sorted` before this one are gone from the bucket. */
  cursor: number;
}

export class TimeIndex {
  private readonly granularityMs: number;
  private readonly times = new Map<string, number>();
  private readonly buckets = new Map<number, Bucket>();
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
    const number = this.bucketOf(time);
    let bucket = this.buckets.get(number);
    if (!bucket) {
      bucket = { ids: new Set(), sorted: undefined, cursor: 0 };
      this.buckets.set(number, bucket);
      this.order.splice(insertionPoint(this.order, number), 0, number);
    }
    bucket.ids.add(id);
    bucket.sorted = undefined;
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
    for (const number of this.order) {
      const start = number * this.granularityMs;
      if (start >= before) break;
      const bucket = this.buckets.get(number);
      if (!bucket) continue;
      if (start + this.granularityMs <= before) {
        // Every time in the granule is below `before`.
        for (const id of bucket.ids) {
          const time = this.times.get(id);
          if (time !== undefined) due.push([time, id]);
        }
        continue;
      }
      // The granule `before` falls in, the last one to look at: its due entries lead its sorted view.
      const sorted = this.sortedView(bucket);
      for (let i = bucket.cursor; i < sorted.length; i++) {
        const [time, id] = sorted[i] as [number, string];
        if (time >= before) break;
        if (this.times.get(id) === time) due.push([time, id]);
      }
      break;
    }
    return due.sort(byTimeThenId).map(([, id]) => id);
  }

  /** The earliest time indexed, if any. */
  earliest(): number | undefined {
    const first = this.order[0];
    const bucket = first === undefined ? undefined : this.buckets.get(first);
    if (!bucket) return undefined;
    return this.sortedView(bucket)[bucket.cursor]?.[0];
  }

  clear(): void {
    this.times.clear();
    this.buckets.clear();
    this.order = [];
  }

  private bucketOf(time: number): number {
    return Math.floor(time / this.granularityMs);
  }

  /**
   * The bucket's [time, id] pairs in ascending order, from its cursor on: sorted once, then kept
   * (a new entry in the bucket drops it), the entries gone from the front skipped for good.
   */
  private sortedView(bucket: Bucket): [number, string][] {
    let sorted = bucket.sorted;
    if (!sorted) {
      sorted = [];
      for (const id of bucket.ids) {
        const time = this.times.get(id);
        if (time !== undefined) sorted.push([time, id]);
      }
      sorted.sort(byTimeThenId);
      bucket.sorted = sorted;
      bucket.cursor = 0;
    }
    while (bucket.cursor < sorted.length) {
      const [time, id] = sorted[bucket.cursor] as [number, string];
      // Still in the bucket at that time: the front is current.
      if (bucket.ids.has(id) && this.times.get(id) === time) break;
      bucket.cursor += 1;
    }
    return sorted;
  }

  private removeFromBucket(id: string, time: number): void {
    const number = this.bucketOf(time);
    const bucket = this.buckets.get(number);
    if (!bucket) return;
    bucket.ids.delete(id);
    if (bucket.ids.size > 0) return;
    this.buckets.delete(number);
    const at = insertionPoint(this.order, number);
    if (this.order[at] === number) this.order.splice(at, 1);
  }
}

function byTimeThenId([ta, a]: [number, string], [tb, b]: [number, string]): number {
  return ta - tb || (a < b ? -1 : a > b ? 1 : 0);
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
