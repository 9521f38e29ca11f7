// Live pacing: the speedup while simulated time is behind the wall clock, never ahead of it.
import { liveSimulatedStart, WallClockPacer } from './pacer.ts';

const T0 = Date.parse('2026-12-05T12:00:00Z');
const HOUR = 3_600_000;

describe('WallClockPacer', () => {
  test('runs at the speedup while simulated time is behind the wall clock', () => {
    // Two simulated hours behind, 10×: it catches up after 2 h ÷ 9 of wall time.
    const pacer = new WallClockPacer(T0 - 2 * HOUR, 10, () => T0);
    expect(pacer.wallTimeOf(T0 - 2 * HOUR)).toBe(T0);
    expect(pacer.wallTimeOf(T0 - HOUR)).toBe(T0 + HOUR / 10);
    expect(pacer.simulatedTimeAt(T0 + HOUR / 10)).toBe(T0 - HOUR);
    expect(pacer.reachesWallClockAt()).toBe(T0 + (2 * HOUR) / 9);
  });

  test('then runs at 1×: no simulated time is due before the wall clock shows it', () => {
    const pacer = new WallClockPacer(T0 - 2 * HOUR, 10, () => T0);
    const caughtUp = pacer.reachesWallClockAt() ?? Number.NaN;
    for (const t of [caughtUp, T0 + HOUR, T0 + 24 * HOUR]) {
      expect(pacer.wallTimeOf(t)).toBe(t);
      expect(pacer.simulatedTimeAt(t)).toBe(t);
    }
    // At the speedup alone, an hour of wall time would have taken it to T0 + 8 h.
  });

  test('a simulated start ahead of the wall clock waits for it; a slow run never catches up', () => {
    const ahead = new WallClockPacer(T0 + HOUR, 10, () => T0);
    expect(ahead.wallTimeOf(T0 + HOUR)).toBe(T0 + HOUR);
    expect(ahead.simulatedTimeAt(T0 + HOUR / 2)).toBe(T0 + HOUR);
    const slow = new WallClockPacer(T0 - HOUR, 0.5, () => T0);
    expect(slow.reachesWallClockAt()).toBeUndefined();
    expect(slow.wallTimeOf(T0 - HOUR / 2)).toBe(T0 + HOUR);
  });

  test('waits on the injected clock: not at all when due, until aborted when not', async () => {
    let wall = T0;
    const pacer = new WallClockPacer(T0 - HOUR, 10, () => wall);
    wall = T0 + HOUR;
    // Already due: returns without waiting.
    await pacer.waitUntil(T0 + HOUR);
    const controller = new AbortController();
    const waiting = pacer.waitUntil(T0 + 2 * HOUR, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(() => new WallClockPacer(0, 0)).toThrow(RangeError);
  });
});

describe('liveSimulatedStart', () => {
  test('starts as far back as the speedup covers in the wall duration, so it ends at the present', () => {
    const start = liveSimulatedStart({ now: T0, speedup: 60, wallDurationMs: 10 * 60_000 });
    expect(start).toBe(T0 - 59 * 10 * 60_000);
    const pacer = new WallClockPacer(start, 60, () => T0);
    expect(pacer.reachesWallClockAt()).toBe(T0 + 10 * 60_000);
  });

  test('without a duration keeps the speedup for an hour; never starts ahead of now', () => {
    expect(liveSimulatedStart({ now: T0, speedup: 60 })).toBe(T0 - 59 * HOUR);
    expect(liveSimulatedStart({ now: T0 + 999, speedup: 0.5 })).toBe(T0);
  });
});
