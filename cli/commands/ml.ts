// `continuum ml`: the ETA trainer (ml/README.md); `continuum ml train` asks a running trainer
// for a training, as POST /v1/ml/train does.
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { failureReport } from '../../core/failure-report.ts';
import { runTrainer } from '../../ml/run-trainer.ts';
import { EXIT } from '../exit-codes.ts';
import { preparePlatformTopics } from '../platform-topics.ts';
import type { CommandEnv } from './stack.ts';

export function mlCommand(env: CommandEnv): Command {
  const ml = new Command('ml')
    .description(
      'the ETA trainer: deliveries.completed into a window, trainings logged to MLflow, champions published to eta.models',
    )
    .option(
      '--metrics-port <port>',
      '/metrics and /train port (default CONTINUUM_ML_METRICS_PORT)',
      Number,
    )
    .action(async (opts: { metricsPort?: number }) => {
      const config = env.config();
      try {
        await preparePlatformTopics(config, env.log());
        await runTrainer(config, env.log(), {
          host: config.api.host,
          metricsPort: opts.metricsPort ?? config.metricsPorts.ml,
        });
      } catch (err) {
        env.log().error({ err: errorMessage(err) }, 'ml failed');
        env.out(`ml failed: ${failureReport(err)}`);
        env.setExitCode(EXIT.failed);
      }
    });
  ml.command('train')
    .description('ask the running trainer (CONTINUUM_ML_TRAINER_URL) for a training now')
    .option('--request-id <id>', 'idempotency key: the same id never trains twice', randomUUID())
    .action(async (opts: { requestId: string }) => {
      const config = env.config();
      try {
        const response = await fetch(`${config.ml.trainerUrl}/train`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ requestId: opts.requestId, requestedBy: 'cli' }),
          signal: AbortSignal.timeout(10_000),
        });
        env.out(`${response.status} ${await response.text()}`);
        if (!response.ok) env.setExitCode(EXIT.failed);
      } catch (err) {
        env.out(`ml train failed: ${failureReport(err)} (is \`continuum ml\` running?)`);
        env.setExitCode(EXIT.failed);
      }
    });
  return ml;
}
