// Retries with capped exponential backoff (core/backoff.ts) and jitter, within a time budget.
// The MLflow client retries what may pass (connection errors, timeouts, 429, 5xx) and reports
// every retry, so the trainer can count and log them.
import { setTimeout as delay } from 'node:timers/promises';
import { Backoff } from './backoff.ts';

export interface RetryPolicy {
  /** First pause; doubles up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts after this long since the first (0: one attempt only). */
  budgetMs: number;
}

export const RETRY_DEFAULTS: RetryPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 15_000,
  budgetMs: 120_000,
};

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: unknown;
}

export async function retryWithBackoff<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryPolicy & {
    isRetriable: (err: unknown) => boolean;
    onRetry?: (event: RetryEvent) => void;
    signal?: AbortSignal;
    /** Random in [0, 1): tests pass a fixed one. */
    random?: () => number;
  },
): Promise<T> {
  const started = Date.now();
  // Full jitter on half the pause: retries of several callers do not arrive together.
  const backoff = new Backoff(
    { initialMs: options.initialDelayMs, maxMs: options.maxDelayMs, jitter: 0.5 },
    options.random,
  );
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const delayMs = backoff.next();
      const elapsed = Date.now() - started;
      if (!options.isRetriable(err) || elapsed + delayMs > options.budgetMs) throw err;
      options.onRetry?.({ attempt: n, delayMs, error: err });
      await delay(delayMs, undefined, { signal: options.signal });
    }
  }
}
