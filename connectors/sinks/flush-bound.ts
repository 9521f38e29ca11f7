// When a sink runner flushes within a fetched batch: after `records` records or `bytes` bytes of
// record values since the last flush, whichever comes first.
export class FlushBound {
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private records = 0;
  private bytes = 0;

  constructor(limits: { records: number; bytes: number }) {
    this.maxRecords = limits.records;
    this.maxBytes = limits.bytes;
  }

  /** Counts one record added to the sink, of `bytes` value bytes. */
  add(bytes: number): void {
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
    return this.records >= this.maxRecords || this.bytes >= this.maxBytes;
  }

  /** After a flush. */
  reset(): void {
    this.records = 0;
    this.bytes = 0;
  }
}
