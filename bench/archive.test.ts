import { cleanReadings, cpuFigures, flushesOf, VARIANT_ORDER } from './archive.ts';

describe('cleanReadings', () => {
  it('gives as many readings as asked, one per event id', async () => {
    const readings = await cleanReadings(3_000);
    expect(readings).toHaveLength(3_000);
    expect(new Set(readings.map((r) => r.eventId)).size).toBe(3_000);
  });
});

describe('VARIANT_ORDER', () => {
  it('runs every variant twice, the second pass in reverse', () => {
    const keys = VARIANT_ORDER.map((v) => `${v.backend}/${v.shape}`);
    expect(keys).toHaveLength(8);
    expect(new Set(keys).size).toBe(4);
    expect(keys.slice(4)).toEqual(keys.slice(0, 4).reverse());
  });
});

describe('flushesOf', () => {
  it('puts each vehicle in one partition, keeps each partition’s order, cuts every n records', async () => {
    const readings = await cleanReadings(500);
    const flushes = flushesOf(readings, 3, 40);
    expect(flushes.flatMap((f) => f.readings)).toHaveLength(500);
    expect(Math.max(...flushes.map((f) => f.readings.length))).toBe(40);
    const partitionsOf = new Map<string, Set<number>>();
    for (const { partition, readings: flush } of flushes)
      for (const r of flush)
        partitionsOf.set(r.vehicleId, (partitionsOf.get(r.vehicleId) ?? new Set()).add(partition));
    expect([...partitionsOf.values()].every((p) => p.size === 1)).toBe(true);
    expect(new Set(flushes.map((f) => f.partition))).toEqual(new Set([0, 1, 2]));
    const position = new Map(readings.map((r, i) => [r.eventId, i]));
    for (const partition of [0, 1, 2]) {
      const order = flushes
        .filter((f) => f.partition === partition)
        .flatMap((f) => f.readings.map((r) => position.get(r.eventId) ?? -1));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });
});

describe('cpuFigures', () => {
  it('puts the buckets’ mean CPU per 1,000 readings beside one document per reading, per backend', () => {
    const figures = cpuFigures([
      { backend: 'sqlite', shape: 'per-reading', cpuMsPerThousand: 100 },
      { backend: 'sqlite', shape: 'buckets', cpuMsPerThousand: 20 },
      { backend: 'postgresql', shape: 'buckets', cpuMsPerThousand: 30 },
      { backend: 'postgresql', shape: 'per-reading', cpuMsPerThousand: 110 },
      { backend: 'postgresql', shape: 'per-reading', cpuMsPerThousand: 130 },
      { backend: 'postgresql', shape: 'buckets', cpuMsPerThousand: 50 },
      { backend: 'sqlite', shape: 'buckets', cpuMsPerThousand: 30 },
      { backend: 'sqlite', shape: 'per-reading', cpuMsPerThousand: 120 },
    ]);
    expect(figures.map((f) => [f.value, f.baseline?.value, f.unit])).toEqual([
      [25, 110, 'ms'],
      [40, 120, 'ms'],
    ]);
  });

  it('gives no figure for a backend where a row could not read the CPU (no /proc, no pid file)', () => {
    const figures = cpuFigures([
      { backend: 'sqlite', shape: 'per-reading' },
      { backend: 'sqlite', shape: 'buckets', cpuMsPerThousand: 20 },
      { backend: 'sqlite', shape: 'buckets', cpuMsPerThousand: 30 },
      { backend: 'sqlite', shape: 'per-reading', cpuMsPerThousand: 120 },
      { backend: 'postgresql', shape: 'per-reading', cpuMsPerThousand: 110 },
      { backend: 'postgresql', shape: 'per-reading', cpuMsPerThousand: 130 },
      { backend: 'postgresql', shape: 'buckets', cpuMsPerThousand: 30 },
      { backend: 'postgresql', shape: 'buckets', cpuMsPerThousand: 50 },
    ]);
    expect(figures.map((f) => f.name)).toEqual([expect.stringContaining('FerretDB on PostgreSQL')]);
  });
});
