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
});
