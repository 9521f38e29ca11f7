import { TimeoutError } from './errors.ts';
import { waitFor } from './wait-for.ts';

describe('waitFor', () => {
  it('returns the first value that holds', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), {
      timeoutMs: 5_000,
      intervalMs: 1,
      description: 'three calls',
    });
    expect(value).toBe('after 3');
    expect(calls).toBe(3);
  });

  it('treats a throwing check as not yet, and reports its last error on timeout', async () => {
    const promise = waitFor(
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 50, intervalMs: 5, description: 'a service' },
    );
    await expect(promise).rejects.toThrow(TimeoutError);
    await expect(promise).rejects.toThrow(
      /waiting for a service \(last error: connection refused\)/,
    );
  });

  it('times out on a check that never returns, naming it', async () => {
    const failure = await waitFor(() => new Promise<boolean>(() => undefined), {
      timeoutMs: 50,
      description: 'a stuck check',
    }).catch((err: unknown) => err);
    expect(String(failure)).toMatch(
      /timed out after 50 ms waiting for a stuck check \(last error: the last check had not returned\)/,
    );
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const promise = waitFor(() => false, {
      timeoutMs: 60_000,
      intervalMs: 5,
      description: 'never',
      signal: controller.signal,
    });
    controller.abort(new Error('shutting down'));
    await expect(promise).rejects.toThrow('shutting down');
  });
});
