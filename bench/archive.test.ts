import { cleanReadings, cpuFigures } from './archive.ts';

describe('cleanReadings', () => {
  it('gives as many readings as asked, one per event id', async () => {
    const readings = await cleanReadings(3_000);
    expect(readings).toHaveLength(3_000);
    expect(new Set(readings.map((r) => r.eventId)).size).toBe(3_000);
  });
});

describe('cpuFigures', () => {
  it('puts PostgreSQL’s mean CPU per 1,000 readings beside SQLite’s', () => {
    const [figure, ...rest] = cpuFigures([
      { backend: 'sqlite', cpuMsPerThousand: 100 },
      { backend: 'postgresql', cpuMsPerThousand: 110 },
      { backend: 'postgresql', cpuMsPerThousand: 130 },
      { backend: 'sqlite', cpuMsPerThousand: 120 },
    ]);
    expect(rest).toHaveLength(0);
    expect(figure?.value).toBe(120);
    expect(figure?.baseline?.value).toBe(110);
    expect(figure?.unit).toBe('ms');
  });

  it('gives no figure when a row could not read the CPU (no /proc, no pid file)', () => {
    expect(
      cpuFigures([
        { backend: 'sqlite' },
        { backend: 'postgresql', cpuMsPerThousand: 110 },
        { backend: 'postgresql', cpuMsPerThousand: 130 },
        { backend: 'sqlite', cpuMsPerThousand: 120 },
      ]),
    ).toEqual([]);
  });
});
