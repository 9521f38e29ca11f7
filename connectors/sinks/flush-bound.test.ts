import { FlushBound } from './flush-bound.ts';

describe('FlushBound', () => {
  it('is due after the record bound when records are small', () => {
    const bound = new FlushBound({ records: 3, bytes: 1_000 });
    bound.add(10);
    bound.add(10);
    expect(bound.due).toBe(false);
    bound.add(10);
    expect(bound.due).toBe(true);
  });

  it('is due after the byte bound when records are large, before the record bound', () => {
    const bound = new FlushBound({ records: 1_000, bytes: 1_000 });
    bound.add(600);
    expect(bound.due).toBe(false);
    bound.add(400);
    expect(bound.due).toBe(true);
  });

  it('is due after one record larger than the byte bound (a record is never split)', () => {
    const bound = new FlushBound({ records: 1_000, bytes: 100 });
    expect(bound.due).toBe(false);
    bound.add(5_000);
    expect(bound.due).toBe(true);
  });

  it('counts again from zero after a flush', () => {
    const bound = new FlushBound({ records: 2, bytes: 100 });
    bound.add(99);
    bound.add(1);
    expect(bound.due).toBe(true);
    bound.reset();
    expect(bound.due).toBe(false);
    bound.add(50);
    expect(bound.due).toBe(false);
  });

  it('is due once the oldest record held is older than the time bound', () => {
    let now = 1_000;
    const bound = new FlushBound({ records: 1_000, bytes: 1_000, ms: 500, now: () => now });
    expect(bound.due).toBe(false);
    now += 10_000; // nothing held: no age
    expect(bound.due).toBe(false);
    bound.add(1);
    now += 499;
    bound.add(1);
    expect(bound.due).toBe(false);
    now += 1;
    expect(bound.due).toBe(true);
    bound.reset();
    expect(bound.due).toBe(false);
  });
});
