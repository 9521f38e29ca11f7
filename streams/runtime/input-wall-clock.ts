// The wall clock a task's processors see (`currentSystemTimeMs`, wall-clock punctuations): real
// time, except that it stands still while the application cannot read its input — before the
// group consumer's first completed fetch, and whenever no fetch has completed for `staleAfterMs`
// (a broker outage, a rejoin, a paused process). A processor that acts on silence ("no input for
// N s: a bounded input has ended, release what is held") must not take an outage for the end of
// its input: the records read after the outage would come after what the silence released, and
// the result would depend on when the broker was down instead of on the records alone.
// The `future` check of event times keeps the real clock.

export interface InputWallClockOptions {
  /** A fetch older than this means the input cannot be read now (the clock stands still). */
  staleAfterMs: number;
  /** Real time (tests pass their own). */
  now?: () => number;
}

export class InputWallClock {
  private readonly staleAfterMs: number;
  private readonly real: () => number;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  /** Real time up to which stalls are accounted. */
  private accountedTo: number;
  private stalledMs = 0;

  constructor(options: InputWallClockOptions) {
    this.staleAfterMs = options.staleAfterMs;
    this.real = options.now ?? Date.now;
    this.accountedTo = this.real();
  }

  /** The group consumer completed a fetch: the input is being read. */
  fetched(): void {
    const real = this.real();
    this.account(real);
    this.lastFetchAt = real;
  }

  /** Milliseconds since the last completed fetch (undefined: none yet). */
  sinceFetchMs(): number | undefined {
    return this.lastFetchAt === Number.NEGATIVE_INFINITY
      ? undefined
      : this.real() - this.lastFetchAt;
  }

  /** Real time minus every span the input could not be read; never goes back. */
  now(): number {
    const real = this.real();
    this.account(real);
    return real - this.stalledMs;
  }

  /** How long the clock has stood still so far (ms), for logs and tests. */
  get stalled(): number {
    this.account(this.real());
    return this.stalledMs;
  }

  private account(real: number): void {
    if (real <= this.accountedTo) return;
    const liveUntil = this.lastFetchAt + this.staleAfterMs;
    if (real > liveUntil) this.stalledMs += real - Math.max(this.accountedTo, liveUntil);
    this.accountedTo = real;
  }
}
