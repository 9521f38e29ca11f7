import { Random } from './random.ts';

const draws = (r: Random, n: number): number[] => Array.from({ length: n }, () => r.next());

describe('Random', () => {
  test('the same seed gives the same sequence, another seed another one', () => {
    expect(draws(new Random(7), 50)).toEqual(draws(new Random(7), 50));
    expect(draws(new Random(8), 50)).not.toEqual(draws(new Random(7), 50));
  });

  test('forks are stable per label and independent of draws in the parent or siblings', () => {
    const a = new Random(7);
    const firstFaults = draws(a.fork('faults'), 20);
    const b = new Random(7);
    const world = b.fork('world');
    draws(world, 1_000);
    draws(b, 1_000);
    expect(draws(b.fork('faults'), 20)).toEqual(firstFaults);
    expect(draws(new Random(7).fork('world'), 20)).not.toEqual(firstFaults);
  });

  test('uniform, int and pick stay in range and cover it', () => {
    const r = new Random(1);
    const ints = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const u = r.uniform(-3, 5);
      expect(u).toBeGreaterThanOrEqual(-3);
      expect(u).toBeLessThan(5);
      ints.add(r.int(1, 6));
    }
    expect([...ints].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => r.pick([])).toThrow(RangeError);
  });

  test('normal, exponential and poisson have the right means (within 5 standard errors)', () => {
    const r = new Random(99);
    const n = 20_000;
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const normals = Array.from({ length: n }, () => r.normal(10, 2));
    expect(Math.abs(mean(normals) - 10)).toBeLessThan((5 * 2) / Math.sqrt(n));
    const sd = Math.sqrt(mean(normals.map((x) => (x - 10) ** 2)));
    expect(Math.abs(sd - 2)).toBeLessThan(0.1);
    const exps = Array.from({ length: n }, () => r.exponential(3));
    expect(Math.abs(mean(exps) - 3)).toBeLessThan((5 * 3) / Math.sqrt(n));
    const poissons = Array.from({ length: n }, () => r.poisson(4));
    expect(Math.abs(mean(poissons) - 4)).toBeLessThan((5 * 2) / Math.sqrt(n));
    expect(r.poisson(0)).toBe(0);
  });

  test('uuid is a well-formed version-4 UUID and reproducible', () => {
    const ids = Array.from({ length: 100 }, (_, i) => new Random(i).uuid());
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(100);
    expect(new Random(5).uuid()).toBe(new Random(5).uuid());
  });
});
