// Progress of a replay: records done of a known total, the rate so far and what it says of the
// time left. Pure arithmetic, so the CLI bar and GET /v1/replays/:id report the same figures.

export interface ReplayProgress {
  records: number;
  total: number;
  /** 0–100; 100 when there was nothing to do. */
  percent: number;
  ratePerSecond: number;
  /** Seconds left at the rate so far; null until there is a rate. */
  etaSeconds: number | null;
}

export function progressOf(records: number, total: number, elapsedMs: number): ReplayProgress {
  const ratePerSecond = elapsedMs > 0 ? (records * 1000) / elapsedMs : 0;
  const left = Math.max(0, total - records);
  return {
    records,
    total,
    percent: total === 0 ? 100 : Math.min(100, Math.round((records / total) * 1000) / 10),
    ratePerSecond: Math.round(ratePerSecond * 10) / 10,
    etaSeconds: left === 0 ? 0 : ratePerSecond > 0 ? Math.ceil(left / ratePerSecond) : null,
  };
}

/** Counts records against a total and reports progress, at most every `everyMs`. */
export class ProgressTracker {
  private readonly startedAt = Date.now();
  private records = 0;
  private lastReport = 0;
  private readonly total: number;
  private readonly report: (progress: ReplayProgress) => void;
  private readonly everyMs: number;

  constructor(total: number, report: (progress: ReplayProgress) => void, everyMs = 250) {
    this.total = total;
    this.report = report;
    this.everyMs = everyMs;
    report(this.snapshot());
  }

  add(records: number): void {
    this.records += records;
    const now = Date.now();
    if (now - this.lastReport >= this.everyMs) {
      this.lastReport = now;
      this.report(this.snapshot());
    }
  }

  /** Reports the final figures (the position reached the end, transaction markers included). */
  finish(): ReplayProgress {
    const last = progressOf(this.total, this.total, Date.now() - this.startedAt);
    const final = { ...last, records: this.records, ratePerSecond: last.ratePerSecond };
    this.report(final);
    return final;
  }

  snapshot(): ReplayProgress {
    return progressOf(this.records, this.total, Date.now() - this.startedAt);
  }
}
