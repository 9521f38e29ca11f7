import { TimeIndex } from './time-index.ts';

describe('TimeIndex', () => {
  it('finds the ids due before a time, earliest first, across buckets', () => {
    const index = new TimeIndex(1_000);
    index.set('late', 9_500);
    index.set('b', 1_200);
    index.set('a', 1_200);
    index.set('first', 10);
    expect(index.idsBefore(1_200)).toEqual(['first']);
    expect(index.idsBefore(1_201)).toEqual(['first', 'a', 'b']);
    expect(index.idsBefore(Number.POSITIVE_INFINITY)).toEqual(['first', 'a', 'b', 'late']);
    expect(index.earliest()).toBe(10);
  });

  it('moves an id when its time changes and forgets removed ids', () => {
    const index = new TimeIndex(100);
    index.set('x', 50);
    index.set('x', 5_000);
    expect(index.idsBefore(1_000)).toEqual([]);
    expect(index.timeOf('x')).toBe(5_000);
    index.remove('x');
    expect(index.size).toBe(0);
    expect(index.idsBefore(Number.POSITIVE_INFINITY)).toEqual([]);
    expect(index.earliest()).toBeUndefined();
  });

  it('answers as a sort of every entry would, over random sets, moves, removals and queries', () => {
    // The sorted view of the boundary granule is kept between queries: this walks it through
    // entries added to it, moved within and out of it, removed and re-added, against a plain map.
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const index = new TimeIndex(100);
    const reference = new Map<string, number>();
    const expected = (before: number): string[] =>
      [...reference]
        .filter(([, time]) => time < before)
        .sort(([a, ta], [b, tb]) => ta - tb || (a < b ? -1 : a > b ? 1 : 0))
        .map(([id]) => id);
    let watermark = 0;
    for (let step = 0; step < 20_000; step += 1) {
      const id = `k${random(400)}`;
      const op = random(10);
      if (op < 5) {
        const time = watermark + random(1_000) - 200;
        index.set(id, time);
        reference.set(id, time);
      } else if (op < 7) {
        index.remove(id);
        reference.delete(id);
      } else {
        watermark += random(40);
        const before = watermark + random(150) - 100;
        expect(index.idsBefore(before)).toEqual(expected(before));
        // As the cleaner does: forget what is due, now and then.
        if (op === 9)
          for (const due of index.idsBefore(before)) {
            index.remove(due);
            reference.delete(due);
          }
      }
      if (step % 997 === 0) {
        const times = [...reference.values()];
        expect(index.earliest()).toBe(times.length > 0 ? Math.min(...times) : undefined);
        expect(index.size).toBe(reference.size);
      }
    }
  });
});
