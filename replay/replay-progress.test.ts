import { progressOf } from './replay-progress.ts';

describe('progressOf', () => {
  it('gives percent, rate and the time left at that rate', () => {
    expect(progressOf(250, 1000, 5_000)).toEqual({
      records: 250,
      total: 1000,
      percent: 25,
      ratePerSecond: 50,
      etaSeconds: 15,
    });
  });

  it('is done at once when there is nothing to do, and has no ETA before any rate', () => {
    expect(progressOf(0, 0, 0)).toMatchObject({ percent: 100, etaSeconds: 0 });
    expect(progressOf(0, 10, 0)).toMatchObject({ percent: 0, etaSeconds: null });
  });
});
