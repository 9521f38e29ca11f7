// `continuum bench`: every benchmark in bench/, against the local stack (started if needed).
import { Command } from 'commander';
import { benchTable, BENCHMARKS, runBenchmarks } from '../../bench/run-benchmarks.ts';
import { stackUp, type CommandEnv } from './stack.ts';

export function benchCommand(env: CommandEnv): Command {
  return new Command('bench')
    .description(
      'run the benchmarks: a table with the same-run baseline beside each figure, JSON in bench/results/',
    )
    .option(
      '--scale <factor>',
      'multiply the default event counts (e.g. 0.1 for a quick run)',
      Number.parseFloat,
      1,
    )
    .option(
      '--only <name...>',
      `only these benchmarks (${BENCHMARKS.map((b) => b.name).join(', ')})`,
    )
    .action(async (opts: { scale: number; only?: string[] }) => {
      if (!(await stackUp(env))) return;
      const report = await runBenchmarks(
        { config: env.config(), log: env.log(), scale: opts.scale },
        opts.only,
      );
      env.out(`\n${benchTable(report)}\n\nresults: bench/results/latest.json`);
    });
}
