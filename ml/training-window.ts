// The deliveries a training learns from, windowed by event time (each delivery's actual
// arrival) and by count.
// - sliding: the latest deliveries within `spanMs` of the newest arrival, at most
//   `maxDeliveries`; due for training when arrivals moved `slideMs` on, or `slideDeliveries` new
//   ones came, since the last training.
// - tumbling: deliveries in fixed, aligned spans [k·spanMs, (k+1)·spanMs); due when a delivery
//   arrives past the span's end or the window holds `maxDeliveries`; a training empties it, and
//   the deliveries that came past its end start the next one.
// The window also says where, per partition of deliveries.completed, the records it still
// needs start: the trainer commits those offsets, so after a restart or a rebalance the group
// reads exactly the window again.
import type { DeliveryExample } from '../schemas/types.ts';

export type WindowKind = 'sliding' | 'tumbling';

export interface TrainingWindowOptions {
  kind: WindowKind;
  spanMs: number;
  maxDeliveries: number;
  slideMs: number;
  slideDeliveries: number;
}

export interface WindowEntry {
  example: DeliveryExample;
  partition: number;
  offset: number;
}

export class TrainingWindow {
  readonly options: TrainingWindowOptions;
  /** shipment id → entry (a delivery written twice, e.g. after a replay, counts once). */
  private current = new Map<string, WindowEntry>();
  /** Tumbling: deliveries past the current span's end, waiting for its training. */
  private next = new Map<string, WindowEntry>();
  /** Per partition: the offset after the last record read. */
  private readonly consumed = new Map<number, number>();
  private newest = Number.NEGATIVE_INFINITY;
  private tumblingStart: number | undefined;
  private lastTrainedNewest: number | undefined;
  private addedSinceTraining = 0;

  constructor(options: TrainingWindowOptions) {
    this.options = options;
  }

  get size(): number {
    return this.current.size;
  }

  /** A record was read that the window does not hold (undecodable): its start may pass it. */
  markRead(partition: number, offset: number): void {
    this.consumed.set(partition, Math.max(this.consumed.get(partition) ?? 0, offset + 1));
  }

  /** Takes one record of deliveries.completed in; false for a record read again (no change). */
  add(entry: WindowEntry): boolean {
    this.markRead(entry.partition, entry.offset);
    const id = entry.example.shipmentId;
    const held = this.current.get(id) ?? this.next.get(id);
    if (held && held.partition === entry.partition && held.offset === entry.offset) return false;
    const arrival = entry.example.actualArrival;
    if (this.options.kind === 'tumbling') {
      this.tumblingStart ??= Math.floor(arrival / this.options.spanMs) * this.options.spanMs;
      const full =
        arrival >= this.tumblingStart + this.options.spanMs ||
        this.current.size >= this.options.maxDeliveries;
      if (full && !this.current.has(id)) this.next.set(id, entry);
      else this.current.set(id, entry);
    } else {
      this.current.set(id, entry);
    }
    this.newest = Math.max(this.newest, arrival);
    this.lastTrainedNewest ??= arrival;
    this.addedSinceTraining += 1;
    if (this.options.kind === 'sliding') this.evict();
    return true;
  }

  private evict(): void {
    const horizon = this.newest - this.options.spanMs;
    for (const [id, e] of this.current)
      if (e.example.actualArrival <= horizon) this.current.delete(id);
    const excess = this.current.size - this.options.maxDeliveries;
    if (excess > 0) {
      const oldest = [...this.current.values()]
        .sort((a, b) => a.example.actualArrival - b.example.actualArrival)
        .slice(0, excess);
      for (const e of oldest) this.current.delete(e.example.shipmentId);
    }
  }

  /** Whether the window has closed (tumbling) or slid far enough (sliding) for a training. */
  get due(): boolean {
    if (this.current.size === 0) return false;
    if (this.options.kind === 'tumbling') {
      return this.next.size > 0 || this.current.size >= this.options.maxDeliveries;
    }
    return (
      this.addedSinceTraining >= this.options.slideDeliveries ||
      this.newest - (this.lastTrainedNewest ?? this.newest) >= this.options.slideMs
    );
  }

  /** The deliveries a training now would learn from. */
  examples(): DeliveryExample[] {
    return [...this.current.values()].map((e) => e.example);
  }

  /**
   * A training used the window: a tumbling window empties (the deliveries past its end start
   * the next), a sliding one starts counting its next slide.
   */
  markTrained(): void {
    this.lastTrainedNewest = this.newest;
    this.addedSinceTraining = 0;
    if (this.options.kind !== 'tumbling') return;
    this.current = this.next;
    this.next = new Map();
    const first = oldestArrival(this.current.values());
    this.tumblingStart =
      first === undefined
        ? undefined
        : Math.floor(first / this.options.spanMs) * this.options.spanMs;
    this.addedSinceTraining = this.current.size;
  }

  /** After a rebalance: forget the partitions this member no longer reads. */
  retainPartitions(partitions: ReadonlySet<number>): void {
    for (const map of [this.current, this.next])
      for (const [id, e] of map) if (!partitions.has(e.partition)) map.delete(id);
    for (const p of [...this.consumed.keys()]) if (!partitions.has(p)) this.consumed.delete(p);
  }

  /**
   * Per partition read so far: the offset of the oldest record the window still holds, or the
   * offset after the last one read when it holds none. Committed, these make a restarted
   * trainer read the window again, and nothing older.
   */
  startOffsets(): Map<number, number> {
    const starts = new Map(this.consumed);
    for (const map of [this.current, this.next])
      for (const e of map.values())
        starts.set(e.partition, Math.min(starts.get(e.partition) ?? e.offset, e.offset));
    return starts;
  }

  /** The window as MLflow params. */
  describe(): Record<string, string | number> {
    const from = oldestArrival(this.current.values());
    let to: number | undefined;
    for (const e of this.current.values())
      to = Math.max(to ?? e.example.actualArrival, e.example.actualArrival);
    return {
      kind: this.options.kind,
      span_ms: this.options.spanMs,
      max_deliveries: this.options.maxDeliveries,
      ...(this.options.kind === 'sliding'
        ? { slide_ms: this.options.slideMs, slide_deliveries: this.options.slideDeliveries }
        : {}),
      deliveries: this.current.size,
      from: from === undefined ? '' : new Date(from).toISOString(),
      to: to === undefined ? '' : new Date(to).toISOString(),
    };
  }
}

function oldestArrival(entries: Iterable<WindowEntry>): number | undefined {
  let oldest: number | undefined;
  for (const e of entries)
    oldest = Math.min(oldest ?? e.example.actualArrival, e.example.actualArrival);
  return oldest;
}
