import { BENCHMARKS, benchTable, type BenchReport } from './run-benchmarks.ts';

describe('benchTable', () => {
  it('puts each figure beside its same-run baseline with the ratio', () => {
    const report: BenchReport = {
      startedAt: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 2, memoryGiB: 24, node: 'v24' },
      scale: 1,
      results: [
        {
          benchmark: 'telemetry-sdk',
          figures: [
            {
              name: 'sdk publish',
              value: 30_000,
              unit: 'events/s',
              baseline: { name: 'raw producer', value: 40_000 },
            },
          ],
        },
        { benchmark: 'cdc', figures: [{ name: 'latency p99', value: 12.345, unit: 'ms' }] },
      ],
    };
    const lines = benchTable(report).split('\n');
    expect(lines[0]).toMatch(
      /^BENCHMARK\s+FIGURE\s+VALUE\s+BASELINE \(same run\)\s+RATIO\s+BASELINE IS$/,
    );
    expect(lines[2]).toMatch(
      /telemetry-sdk\s+sdk publish\s+30,000 events\/s\s+40,000 events\/s\s+0\.75×\s+raw producer/,
    );
    expect(lines[3]).toMatch(/cdc\s+latency p99\s+12\.35 ms\s+-\s+-/);
  });
});

describe('BENCHMARKS', () => {
  it('names each benchmark once, so `npm run bench -- <name>` selects exactly one', () => {
    const names = BENCHMARKS.map((b) => b.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('pipeline');
  });
});
