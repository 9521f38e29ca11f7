// The processors' wall clock stands still while the input cannot be read, and only then.
import { InputWallClock } from './input-wall-clock.ts';

function clockAt(start: number) {
  let real = start;
  const clock = new InputWallClock({ staleAfterMs: 2_000, now: () => real });
  return { clock, advance: (ms: number) => (real += ms) };
}

describe('InputWallClock', () => {
  it('stands still until the first fetch, then runs with real time', () => {
    const { clock, advance } = clockAt(10_000);
    advance(5_000);
    expect(clock.now()).toBe(10_000);
    clock.fetched();
    advance(1_500);
    expect(clock.now()).toBe(11_500);
    expect(clock.stalled).toBe(5_000);
  });

  it('tells the time since the last fetch, none before the first', () => {
    const { clock, advance } = clockAt(0);
    expect(clock.sinceFetchMs()).toBeUndefined();
    clock.fetched();
    advance(250);
    expect(clock.sinceFetchMs()).toBe(250);
  });

  it('keeps running while fetches come within staleAfterMs', () => {
    const { clock, advance } = clockAt(0);
    clock.fetched();
    for (let i = 0; i < 10; i++) {
      advance(1_900);
      clock.fetched();
    }
    expect(clock.now()).toBe(19_000);
    expect(clock.stalled).toBe(0);
  });

  it('an outage counts only past staleAfterMs after the last fetch, even read late', () => {
    const { clock, advance } = clockAt(0);
    clock.fetched();
    advance(1_000);
    expect(clock.now()).toBe(1_000);
    // The broker goes away: nothing fetched for 30 s, and nobody reads the clock meanwhile.
    advance(30_000);
    expect(clock.now()).toBe(2_000);
    clock.fetched();
    advance(500);
    expect(clock.now()).toBe(2_500);
    expect(clock.stalled).toBe(29_000);
  });

  it('never goes back', () => {
    const { clock, advance } = clockAt(0);
    let last = clock.now();
    for (const step of [100, 2_500, 0, 7_000, 50]) {
      advance(step);
      if (step === 0) clock.fetched();
      const now = clock.now();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
  });
});
