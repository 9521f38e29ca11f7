// How far a task has read each of its input partitions, against where they end, and the wall
// clock its processors see: the application's input clock (which stands still while no fetch
// completes), standing still also while this task is behind on one of its inputs.
//
// Why: processors act on silence ("no input for N s: a bounded input has ended, release what is
// held"). A task can be silent while its input has not ended at all: the consumer hands over
// other partitions' large batches first (one task starved for seconds behind a backlog), or the
// partition's leader is away while other nodes still answer. Silence then released held readings
// early, and the partition's next records came in late — a result that depended on fetch order
// and broker outages instead of on the records alone (seen in the broker-killed chaos scenario:
// clean readings dead-lettered as late, deliveries made final too soon, versions falling). So
// silence only counts while the task has read every input partition to its end.

/** A partition's known end: the next offset to be written, and the first still in the log. */
export interface InputEnd {
  low: bigint;
  high: bigint;
}

export class TaskInputProgress {
  /** The task's input partitions, as `topic:partition`. */
  private readonly inputs: readonly string[];
  private readonly base: () => number;
  /** Next offset to read per input: everything below was processed or was a transaction marker. */
  private readonly positions = new Map<string, bigint>();
  private readonly ends = new Map<string, InputEnd>();
  /** Base-clock time up to which behind spans are accounted. */
  private accountedTo: number;
  private stalledMs = 0;
  private behindNow: boolean;

  constructor(
    inputs: readonly string[],
    base: () => number,
    committed: ReadonlyMap<string, bigint> = new Map(),
  ) {
    this.inputs = inputs;
    this.base = base;
    this.accountedTo = base();
    for (const [key, offset] of committed) this.positions.set(key, offset);
    this.behindNow = this.computeBehind();
  }

  /** The processors' wall clock: the base clock minus every span the task was behind. */
  now(): number {
    const base = this.base();
    this.account(base);
    return base - this.stalledMs;
  }

  /** Whether some input partition has records the task has not read (or an unknown end). */
  get behind(): boolean {
    return this.behindNow;
  }

  /** The task read `key` up to `nextOffset` (positions only go forward). */
  read(key: string, nextOffset: bigint): void {
    const known = this.positions.get(key);
    if (known !== undefined && known >= nextOffset) return;
    this.positions.set(key, nextOffset);
    this.update();
  }

  /** Where `key` ends now (a fetch's high watermark, or the admin's end offsets). */
  end(key: string, end: InputEnd): void {
    const known = this.ends.get(key);
    // A fetch and a poll may answer out of order: the end only goes forward.
    if (known && known.high >= end.high && known.low >= end.low) return;
    this.ends.set(key, {
      low: known && known.low > end.low ? known.low : end.low,
      high: known && known.high > end.high ? known.high : end.high,
    });
    this.update();
  }

  /** The inputs the task is behind on: where it read to and where they end (for debug logs). */
  behindOn(): { input: string; position: string; end: string }[] {
    const behind: { input: string; position: string; end: string }[] = [];
    for (const key of this.inputs) {
      const end = this.ends.get(key);
      const position = this.positions.get(key) ?? end?.low;
      if (!end || position === undefined || position < end.high)
        behind.push({ input: key, position: String(position), end: String(end?.high) });
    }
    return behind;
  }

  private update(): void {
    this.account(this.base());
    this.behindNow = this.computeBehind();
  }

  private computeBehind(): boolean {
    for (const key of this.inputs) {
      const end = this.ends.get(key);
      if (!end) return true;
      // Never read and nothing committed: the consumer starts at the log's first offset.
      const position = this.positions.get(key) ?? end.low;
      if (position < end.high) return true;
    }
    return false;
  }

  private account(base: number): void {
    if (base <= this.accountedTo) return;
    if (this.behindNow) this.stalledMs += base - this.accountedTo;
    this.accountedTo = base;
  }
}
