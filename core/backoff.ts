// Capped exponential backoff, written once and used by every part that retries: the sink
// runner (flushes, a replaced consumer), the telemetry SDK (sends), the CDC source (sessions),
// the API's state feed and the trainer's consumer (restarts), and retryWithBackoff
// (core/retry.ts: MLflow). Each keeps its own numbers; the rule is the same everywhere.

export interface BackoffPolicy {
  /** The first pause (ms). */
  initialMs: number;
  /** No pause is longer (ms). */
  maxMs: number;
  /**
   * Share of each pause drawn at random (0: none, the default; 0.5: between half and the whole),
   * so that retries of several callers do not arrive together.
   */
  jitter?: number;
}

/** Pauses that double from `initialMs` up to `maxMs`, until reset (after a success). */
export class Backoff {
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private attempts = 0;

  /** `random` in [0, 1): tests pass a fixed one. */
  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    if (!(policy.initialMs > 0) || policy.maxMs < policy.initialMs)
      throw new RangeError(
        `backoff needs 0 < initialMs <= maxMs (got ${policy.initialMs}, ${policy.maxMs})`,
      );
    this.policy = policy;
    this.random = random;
  }

  /** Pauses handed out since the last reset. */
  get failures(): number {
    return this.attempts;
  }

  /** The pause before the next attempt; the one after it is twice as long, up to the cap. */
  next(): number {
    const base = Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** this.attempts);
    this.attempts += 1;
    const jitter = this.policy.jitter ?? 0;
    return Math.round(base * (1 - jitter) + this.random() * base * jitter);
  }

  /** Back to the first pause. */
  reset(): void {
    this.attempts = 0;
  }
}

/** Waits `ms`; resolves early (never rejects) when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
