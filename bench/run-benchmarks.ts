// Runs the benchmarks, prints one table (each figure beside its same-run baseline) and writes
// the figures as JSON to bench/results/<timestamp>.json and bench/results/latest.json.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { repoRoot } from '../core/paths.ts';
import { formatTable } from '../core/table.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { apiLookupBenchmark } from './api-lookup.ts';
import { archiveBenchmark } from './archive.ts';
import { backlogBenchmark } from './backlog.ts';
import { cdcThroughputBenchmark } from './cdc-throughput.ts';
import { mlBenchmark } from './ml.ts';
import { pipelineBenchmark } from './pipeline.ts';
import { stateRestoreBenchmark } from './state-restore.ts';
import { telemetrySdkBenchmark } from './telemetry-sdk.ts';

export const BENCHMARKS: readonly Benchmark[] = [
  telemetrySdkBenchmark,
  cdcThroughputBenchmark,
  pipelineBenchmark,
  backlogBenchmark,
  stateRestoreBenchmark,
  apiLookupBenchmark,
  archiveBenchmark,
  mlBenchmark,
];

export interface BenchReport {
  startedAt: string;
  machine: { cpus: number; memoryGiB: number; node: string };
  scale: number;
  results: { benchmark: string; figures: BenchFigure[] }[];
}

const round = (n: number): string =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);

export function benchTable(report: BenchReport): string {
  const rows = report.results.flatMap(({ benchmark, figures }) =>
    figures.map((f) => [
      benchmark,
      f.name,
      `${round(f.value)} ${f.unit}`,
      f.baseline ? `${round(f.baseline.value)} ${f.unit}` : '-',
      f.baseline ? `${(f.value / f.baseline.value).toFixed(2)}×` : '-',
      f.baseline?.name ?? '',
    ]),
  );
  return formatTable(
    ['BENCHMARK', 'FIGURE', 'VALUE', 'BASELINE (same run)', 'RATIO', 'BASELINE IS'],
    rows,
  );
}

export async function runBenchmarks(
  ctx: BenchContext,
  only?: readonly string[],
): Promise<BenchReport> {
  const selected = BENCHMARKS.filter((b) => !only || only.includes(b.name));
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    scale: ctx.scale,
    results: [],
  };
  for (const [i, benchmark] of selected.entries()) {
    ctx.log.info(
      { benchmark: benchmark.name, progress: `${i + 1}/${selected.length}` },
      'benchmark started',
    );
    const started = performance.now();
    const figures = await benchmark.run(ctx);
    ctx.log.info(
      { benchmark: benchmark.name, seconds: ((performance.now() - started) / 1000).toFixed(1) },
      'benchmark finished',
    );
    report.results.push({ benchmark: benchmark.name, figures });
  }
  const dir = nodePath.join(repoRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(nodePath.join(dir, `${report.startedAt.replace(/[:.]/g, '-')}.json`), json);
  await writeFile(nodePath.join(dir, 'latest.json'), json);
  return report;
}
