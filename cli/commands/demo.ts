// `continuum demo` (`npm start`): the local stack, then the whole pipeline with a live simulated
// fleet, until Ctrl-C or --duration.
import nodePath from 'node:path';
import { Command } from 'commander';
import { createFileLogger } from '../../core/logger.ts';
import { errorMessage } from '../../core/errors.ts';
import { failureReport } from '../../core/failure-report.ts';
import { DEMO_DEFAULTS, runDemo } from '../demo/run-demo.ts';
import { durationArg } from './seed.ts';
import { EXIT } from '../exit-codes.ts';
import { stackUp, type CommandEnv } from './stack.ts';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got "${value}"`);
  return n;
}

export function demoCommand(env: CommandEnv): Command {
  return new Command('demo')
    .description(
      'run the platform locally: the stack of real services, then CDC, the stream processors, the Redis/PostgreSQL/MongoDB sinks and a live simulated fleet',
    )
    .option(
      '--rate <events/s>',
      'telemetry events per second the fleet sends',
      positiveInteger,
      DEMO_DEFAULTS.rate,
    )
    .option('--vehicles <n>', 'fleet size', positiveInteger, DEMO_DEFAULTS.vehicles)
    .option('--duration <d>', 'stop after this long (e.g. 5m); default: until Ctrl-C', durationArg)
    .option('--no-fresh', 'keep the stream applications and state of earlier runs')
    .action(async (opts: { rate: number; vehicles: number; duration?: number; fresh: boolean }) => {
      // The terminal shows where things are and one status line; this command's own log (the
      // stack's progress included) goes to a file beside its processes' logs.
      const config = env.config();
      const log = createFileLogger(
        config.logLevel,
        nodePath.join(config.stateDir, 'demo', 'demo.log'),
      );
      if (!(await stackUp({ ...env, log: () => log }))) return;
      try {
        await runDemo(config, log, env.out, {
          ...DEMO_DEFAULTS,
          rate: opts.rate,
          vehicles: opts.vehicles,
          fresh: opts.fresh,
          wallDurationMs: opts.duration,
        });
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'demo failed');
        env.out(`demo failed: ${failureReport(err)}`);
        env.setExitCode(EXIT.failed);
      }
    });
}
