// `continuum streams`: run the stream processors (scale out by starting more instances).
import { Command, Option } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { runStreams, STREAM_APPS, type StreamApp } from '../../streams/run-streams.ts';
import type { ProcessingGuarantee } from '../../streams/runtime/streams-application.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnv } from './stack.ts';

export function streamsCommand(env: CommandEnv): Command {
  return new Command('streams')
    .description(
      'run the stream processors: clean telemetry, clean shipments and join them into shipment.state',
    )
    .addOption(
      new Option('--app <name...>', 'which applications')
        .choices([...STREAM_APPS])
        .default([...STREAM_APPS]),
    )
    .addOption(
      new Option(
        '--guarantee <mode>',
        'processing guarantee (default: CONTINUUM_STREAMS_GUARANTEE)',
      ).choices(['exactly-once', 'at-least-once']),
    )
    .action(async (opts: { app: StreamApp[]; guarantee?: ProcessingGuarantee }) => {
      const config = env.config();
      try {
        await runStreams(config, env.log(), {
          apps: opts.app,
          guarantee: opts.guarantee ?? config.streams.guarantee,
          metricsPort: config.metricsPorts.streams,
        });
      } catch (err) {
        env.log().error({ err: errorMessage(err) }, 'streams failed');
        env.out(`streams failed: ${errorMessage(err)}`);
        env.setExitCode(EXIT.failed);
      }
    });
}
