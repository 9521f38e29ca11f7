// `continuum lag`: consumer group lag of the platform's groups — served as
// `kafka_consumergroup_lag` (records) and `kafka_consumergroup_lag_seconds` on /metrics for
// Prometheus, the Grafana lag dashboard and the UI's pipeline page, or printed once as a table.
import { Command } from 'commander';
import { Registry } from 'prom-client';
import { measureConsumerLag, registerConsumerLagGauges } from '../../core/consumer-lag.ts';
import { errorMessage } from '../../core/errors.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import { startMetricsServer } from '../../core/metrics-server.ts';
import { FetchPartitionTailReader } from '../../core/partition-tails.ts';
import { handleShutdown } from '../../core/shutdown.ts';
import { formatTable } from '../../core/table.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnv } from './stack.ts';

export function lagCommand(env: CommandEnv): Command {
  return new Command('lag')
    .description(
      'consumer group lag of the platform (groups starting with --group-prefix): /metrics for Prometheus, or --once as a table',
    )
    .option('--group-prefix <prefix>', 'which consumer groups', 'continuum')
    .option('--once', 'print the lag once and exit')
    .option('--metrics-port <port>', '/metrics port (default CONTINUUM_LAG_METRICS_PORT)', Number)
    .action(async (opts: { groupPrefix: string; once?: boolean; metricsPort?: number }) => {
      const config = env.config();
      const log = env.log();
      const admin = createKafkaClient(config, 'lag', log).admin();
      const tails = new FetchPartitionTailReader(config, 'lag');
      try {
        await admin.connect();
        if (opts.once) {
          const lags = await measureConsumerLag(admin, opts.groupPrefix, tails);
          env.out(
            formatTable(
              ['GROUP', 'TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG'],
              lags.map((l) =>
                [l.group, l.topic, l.partition, l.committed, l.end, l.lag].map(String),
              ),
            ),
          );
          return;
        }
        const registry = new Registry();
        registerConsumerLagGauges(registry, () =>
          measureConsumerLag(admin, opts.groupPrefix, tails),
        );
        const shutdown = handleShutdown(log);
        const server = await startMetricsServer({
          host: config.api.host,
          port: opts.metricsPort ?? config.metricsPorts.lag,
          registry,
        });
        shutdown.onShutdown('metrics', () => server.close());
        log.info({ port: server.port, groupPrefix: opts.groupPrefix }, 'serving consumer lag');
        await shutdown.done;
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'lag failed');
        env.out(`lag failed: ${errorMessage(err)}`);
        env.setExitCode(EXIT.failed);
      } finally {
        await tails.close();
        await admin.disconnect();
      }
    });
}
