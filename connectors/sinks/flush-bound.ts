// When a sink runner flushes within a fetched batch: after `records` records or `bytes` bytes of
// record values since the last flush, or once the oldest record held is `ms` old (decoding a
// large batch through a slow registry must not keep records unwritten for long), whichever
// comes first.
export class FlushBound {
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly maxMs: number;
  private readonly now: () => number;
  private records = 0;
  private bytes = 0;
  private firstAt = 0;

  constructor(limits: { records: number; bytes: number; ms?: number; now?: () => number }) {
    this.maxRecords = limits.records;
    this.maxBytes = limits.bytes;
    this.maxMs = limits.ms ?? Number.POSITIVE_INFINITY;
    this.now = limits.now ?? Date.now;
  }

  /** Counts one record added to the sink, of `bytes` value bytes. */
  add(bytes: number): void {
    if (this.records === 0) this.firstAt = this.now();
    this.records += 1;
    this.bytes += bytes;
  }

  /** Records added since the last flush: what the sink holds in memory now. */
  get heldRecords(): number {
    return this.records;
  }

  /** Bytes of record values added since the last flush. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Whether a flush is due before the next record is added. */
  get due(): boolean {
    return (
      this.records >= this.maxRecords ||
      this.bytes >= this.maxBytes ||
      (this.records > 0 && this.now() - this.firstAt >= this.maxMs)
    );
  }

  /** After a flush. */
  reset(): void {
    this.records = 0;
    this.bytes = 0;
  }
}
