// Await a condition instead of sleeping: poll with capped exponential backoff until it holds.
import { setTimeout as delay } from 'node:timers/promises';
import { TimeoutError, errorMessage } from './errors.ts';

export interface WaitForOptions {
  timeoutMs: number;
  /** First pause between attempts; doubles up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  description: string;
  signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a value other than `undefined`/`false`, then returns it.
 * A check that throws counts as "not yet"; the last error is reported on timeout.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let pause = options.intervalMs ?? 100;
  const maxPause = options.maxIntervalMs ?? 2_000;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const result = await beforeDeadline(check(), deadline);
      if (result !== undefined && result !== false) return result;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last error: ${errorMessage(lastError)})`;
      throw new TimeoutError(
        `timed out after ${options.timeoutMs} ms waiting for ${options.description}${why}`,
        {
          cause: lastError,
          context: { description: options.description },
        },
      );
    }
    try {
      await delay(Math.min(pause, Math.max(0, deadline - Date.now())), undefined, {
        signal: options.signal,
      });
    } catch (err) {
      // Surface the caller's abort reason rather than the timer's generic AbortError.
      if (options.signal?.aborted) throw options.signal.reason;
      throw err;
    }
    pause = Math.min(pause * 2, maxPause);
  }
}

class CheckStuckError extends Error {
  constructor() {
    super('the last check had not returned');
    this.name = 'CheckStuckError';
  }
}

/**
 * The check's result, or a CheckStuckError once the deadline passes first: a check that never
 * settles (a client call stuck on a dead connection) must not hold the wait past its timeout.
 */
async function beforeDeadline<T>(check: Promise<T> | T, deadline: number): Promise<T> {
  if (!(check instanceof Promise)) return check;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    // A check still running at the deadline gets a little grace before it counts as stuck.
    timer = setTimeout(
      () => reject(new CheckStuckError()),
      Math.max(0, deadline - Date.now()) + 1_000,
    );
  });
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
    // The abandoned check may still fail later; that is no one's unhandled rejection.
    check.catch(() => undefined);
  }
}
