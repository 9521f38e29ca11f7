// `continuum streams`: run the stream processors (scale out by starting more instances).
import { Command, Option } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { failureReport } from '../../core/failure-report.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import { resetStreamsApplication, type ResetInputs } from '../../streams/reset-application.ts';
import { streamApplications, streamTopics } from '../../streams/topologies.ts';
import { STREAM_APPS, type StreamApp } from '../../streams/platform-streams.ts';
import { runStreams } from '../../streams/run-streams.ts';
import type { ProcessingGuarantee } from '../../streams/runtime/streams-application.ts';
import { EXIT } from '../exit-codes.ts';
import { preparePlatformTopics } from '../platform-topics.ts';
import type { CommandEnv } from './stack.ts';

export function streamsCommand(env: CommandEnv): Command {
  const streams = new Command('streams')
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
        // The topics the applications read and write; their internal topics are the runtime's.
        await preparePlatformTopics(config, env.log());
        await runStreams(config, env.log(), {
          apps: opts.app,
          guarantee: opts.guarantee ?? config.streams.guarantee,
          metricsPort: config.metricsPorts.streams,
        });
      } catch (err) {
        env.log().error({ err: errorMessage(err) }, 'streams failed');
        env.out(`streams failed: ${failureReport(err)}`);
        env.setExitCode(EXIT.failed);
      }
    });
  streams
    .command('reset')
    .description(
      'reset stream applications (all instances stopped): delete their consumer group and internal topics; inputs start again from the beginning, or with --to-latest from their end',
    )
    .addOption(
      new Option('--app <name...>', 'which applications')
        .choices([...STREAM_APPS])
        .default([...STREAM_APPS]),
    )
    .option('--to-latest', 'skip the input that is already there: process only new records')
    .action(async (opts: { app: StreamApp[]; toLatest?: boolean }) => {
      const config = env.config();
      const inputs: ResetInputs = opts.toLatest ? 'latest' : 'earliest';
      const admin = createKafkaClient(config, 'streams-reset', env.log()).admin();
      await admin.connect();
      try {
        const apps = streamApplications(
          config.streams.applicationPrefix,
          streamTopics(config.topics),
        ).filter((a) => opts.app.includes(a.app));
        for (const app of apps) {
          const report = await resetStreamsApplication(admin, app.applicationId, {
            inputs,
            inputTopics: app.inputs,
            stateDir: config.streams.stateDir,
          });
          env.out(
            `${report.applicationId}: group ${report.groupDeleted ? 'deleted' : 'absent'}, ${report.deletedTopics.length} internal topic(s) deleted, ${report.localStateDeleted ? 'state on disk deleted, ' : ''}inputs from ${inputs === 'latest' ? 'their end' : 'the beginning'}`,
          );
        }
      } catch (err) {
        env.log().error({ err: errorMessage(err) }, 'streams reset failed');
        env.out(`streams reset failed: ${failureReport(err)}`);
        env.setExitCode(EXIT.failed);
      } finally {
        await admin.disconnect();
      }
    });
  return streams;
}
