// `continuum bench`: every benchmark in bench/, against the local stack (started if needed).
import { Command } from 'commander';
import { benchTable, BENCHMARKS, runBenchmarks } from '../../bench/run-benchmarks.ts';
import {
  PIPELINE_BENCH_DEFAULTS,
  PIPELINE_CLIENTS,
  PIPELINE_ROWS,
  PIPELINE_THREADS,
  resolvePipelineBenchOptions,
} from '../../bench/pipeline-options.ts';
import {
  API_LOOKUP_BENCH_DEFAULTS,
  resolveApiLookupBenchOptions,
} from '../../bench/api-lookup-options.ts';
import { stackUp, type CommandEnv } from './stack.ts';

interface BenchOptions {
  scale: number;
  only?: string[];
  records?: string;
  partitions?: string;
  rows?: string[];
  clients?: string[];
  threads?: string[];
  freshnessSeconds?: string;
  freshnessRate?: string;
  freshnessVehicles?: string;
  graceMs?: string;
  loadRate?: string;
  probes?: string;
}

export function benchCommand(env: CommandEnv): Command {
  const d = PIPELINE_BENCH_DEFAULTS;
  return (
    new Command('bench')
      .description(
        'run the benchmarks: a table with the same-run baseline beside each figure, JSON in bench/results/',
      )
      .argument(
        '[benchmarks...]',
        `only these benchmarks (${BENCHMARKS.map((b) => b.name).join(', ')})`,
      )
      .option(
        '--scale <factor>',
        'multiply the default event counts (e.g. 0.1 for a quick run)',
        Number.parseFloat,
        1,
      )
      .option('--only <name...>', 'only these benchmarks (same as naming them)')
      // Pipeline options are validated by the benchmark (bench/pipeline-options.ts).
      .option(
        '--records <n>',
        `pipeline, api-lookup: input records of the throughput row at scale 1 (${d.records})`,
      )
      .option(
        '--partitions <n>',
        `pipeline, api-lookup: partitions of every topic (${d.partitions})`,
      )
      .option('--rows <row...>', `pipeline: rows to run (${PIPELINE_ROWS.join(', ')})`)
      .option(
        '--clients <client...>',
        `pipeline: streams runtime clients to measure (${PIPELINE_CLIENTS.join(', ')})`,
      )
      .option(
        '--threads <way...>',
        `pipeline: how the stream applications share threads, each way measured (${PIPELINE_THREADS.join(', ')}; default one)`,
      )
      .option(
        '--freshness-seconds <s>',
        `pipeline, api-lookup: freshness window (${d.freshnessSeconds}; api-lookup: × --scale)`,
      )
      .option(
        '--freshness-rate <events/s>',
        'pipeline: freshness telemetry rate (default: half the lowest sustained rate)',
      )
      .option(
        '--freshness-vehicles <n>',
        `pipeline, api-lookup: vehicles sending freshness telemetry (${d.freshnessVehicles})`,
      )
      .option(
        '--grace-ms <ms>',
        `pipeline, api-lookup: telemetry reorder grace in the freshness rows (${d.graceMs}; the platform's is 60000)`,
      )
      .option(
        '--load-rate <events/s>',
        'api-lookup: telemetry rate under load and for freshness (default: half the sustained rate, measured)',
      )
      .option(
        '--probes <n>',
        `api-lookup: vehicles whose POSTed readings are looked up until seen (${API_LOOKUP_BENCH_DEFAULTS.probes})`,
      )
      .action(async (names: string[], opts: BenchOptions) => {
        const only = [...names, ...(opts.only ?? [])];
        const unknown = only.filter((n) => !BENCHMARKS.some((b) => b.name === n));
        if (unknown.length > 0) {
          env.out(
            `unknown benchmark(s): ${unknown.join(', ')} (known: ${BENCHMARKS.map((b) => b.name).join(', ')})`,
          );
          env.setExitCode(2);
          return;
        }
        const pipeline = {
          records: opts.records,
          partitions: opts.partitions,
          rows: opts.rows,
          clients: opts.clients,
          threads: opts.threads,
          freshnessSeconds: opts.freshnessSeconds,
          freshnessRate: opts.freshnessRate,
          freshnessVehicles: opts.freshnessVehicles,
          graceMs: opts.graceMs,
        };
        // A wrong option fails now, not after the benchmarks before the pipeline have run.
        const apiLookup = { loadRate: opts.loadRate, probes: opts.probes };
        resolvePipelineBenchOptions(pipeline);
        resolveApiLookupBenchOptions(apiLookup);
        if (!(await stackUp(env))) return;
        const report = await runBenchmarks(
          {
            config: env.config(),
            log: env.log(),
            scale: opts.scale,
            options: { pipeline, 'api-lookup': apiLookup },
          },
          only.length > 0 ? only : undefined,
        );
        env.out(`\n${benchTable(report)}\n\nresults: bench/results/latest.json`);
      })
  );
}
