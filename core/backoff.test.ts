import { Backoff, pause } from './backoff.ts';

describe('Backoff', () => {
  it('doubles from the first pause up to the cap, and starts over after a reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 500 });
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([100, 200, 400, 500, 500]);
    expect(backoff.failures).toBe(5);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(100);
  });

  it('draws the jittered share at random: half of each pause at jitter 0.5', () => {
    const lowest = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0.5 }, () => 0);
    const highest = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0.5 }, () => 0.999_999);
    expect([lowest.next(), lowest.next()]).toEqual([50, 100]);
    expect([highest.next(), highest.next()]).toEqual([100, 200]);
  });

  it('refuses a policy with no first pause or a cap below it', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 20, maxMs: 10 })).toThrow('0 < initialMs <= maxMs');
  });
});

describe('pause', () => {
  // A pause that ignored its signal would hold these for a minute: past Jest's timeout.
  it('resolves early when its signal aborts, and at once on an aborted one', async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    await expect(pause(60_000, controller.signal)).resolves.toBeUndefined();
  }, 10_000);
});
