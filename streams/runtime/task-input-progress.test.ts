import { TaskInputProgress } from './task-input-progress.ts';

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const A = 'raw:0';
const B = 'repartition:0';

describe('TaskInputProgress', () => {
  it('stands still until every input partition has a known end', () => {
    const base = clock();
    const progress = new TaskInputProgress([A, B], base.now);
    base.advance(5_000);
    expect(progress.behind).toBe(true);
    expect(progress.now()).toBe(1_000);
    progress.end(A, { low: 0n, high: 0n });
    base.advance(1_000);
    expect(progress.now()).toBe(1_000);
    progress.end(B, { low: 0n, high: 0n });
    base.advance(2_000);
    expect(progress.behind).toBe(false);
    expect(progress.now()).toBe(3_000);
  });

  it('runs while the task has read everything, and stands still while a partition has unread records', () => {
    const base = clock();
    const progress = new TaskInputProgress([A], base.now, new Map([[A, 10n]]));
    progress.end(A, { low: 0n, high: 10n });
    base.advance(1_000);
    expect(progress.now()).toBe(2_000);
    // The partition grew (a fetch's high watermark), and the task has not read it yet.
    progress.end(A, { low: 0n, high: 500n });
    base.advance(30_000);
    expect(progress.now()).toBe(2_000);
    progress.read(A, 300n);
    base.advance(1_000);
    expect(progress.now()).toBe(2_000);
    progress.read(A, 500n);
    base.advance(1_000);
    expect(progress.behind).toBe(false);
    expect(progress.now()).toBe(3_000);
  });

  it('never moves a position or an end backwards (fetches and polls answer out of order)', () => {
    const base = clock();
    const progress = new TaskInputProgress([A], base.now);
    progress.end(A, { low: 0n, high: 100n });
    progress.read(A, 100n);
    expect(progress.behind).toBe(false);
    progress.read(A, 40n);
    progress.end(A, { low: 0n, high: 60n });
    expect(progress.behind).toBe(false);
  });

  it('says which inputs it is behind on, and where it stands on each', () => {
    const base = clock();
    const progress = new TaskInputProgress([A, B], base.now, new Map([[A, 7n]]));
    progress.end(A, { low: 0n, high: 9n });
    expect(progress.behindOn()).toEqual([
      { input: A, position: '7', end: '9' },
      { input: B, position: 'undefined', end: 'undefined' },
    ]);
    progress.end(B, { low: 3n, high: 3n });
    progress.read(A, 9n);
    expect(progress.behindOn()).toEqual([]);
  });

  it('takes an input nothing was committed for as starting at the first offset still in the log', () => {
    const base = clock();
    const progress = new TaskInputProgress([A], base.now);
    progress.end(A, { low: 250n, high: 250n });
    expect(progress.behind).toBe(false);
    progress.end(A, { low: 250n, high: 251n });
    expect(progress.behind).toBe(true);
  });

  it('follows its base clock, which stands still by itself during an outage', () => {
    let base = 1_000;
    const progress = new TaskInputProgress([A], () => base, new Map([[A, 5n]]));
    progress.end(A, { low: 0n, high: 5n });
    base = 1_000; // the application's input clock standing still
    expect(progress.now()).toBe(1_000);
    base = 4_000;
    expect(progress.now()).toBe(4_000);
  });
});
