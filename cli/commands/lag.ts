// `continuum lag`: consumer group lag of the platform's groups — served as
// `kafka_consumergroup_lag` (records) and `kafka_consumergroup_lag_seconds` on /metrics for
// Prometheus, the Grafana lag dashboard and the UI's pipeline page, or printed once as a table.
import { Command } from 'commander';
import { Registry } from 'prom-client';
import { measureConsumerLag, registerConsumerLagGauges } from '../../core/consumer-lag.ts';
import { ConsumerLagProbe } from '../../core/consumer-lag-probe.ts';
import { errorMessage } from '../../core/errors.ts';
import { failureReport } from '../../core/failure-report.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import { startMetricsServer } from '../../core/metrics-server.ts';
import { FetchPartitionTailReader } from '../../core/partition-tails.ts';
import { handleShutdown } from '../../core/shutdown.ts';
import { formatTable } from '../../core/table.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnv } from './stack.ts';

/** A measurement every 10 s; not ready when none succeeded for 30 s (or the last one failed). */
const LAG_PROBE = { intervalMs: 10_000, staleAfterMs: 30_000 };

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
        if (opts.once) {
          await admin.connect();
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
        // Connected on first use, and again after a failed connect: an exporter started while
        // Kafka is away serves /healthz and a 503 /ready (with the error) until it is back.
        let connected: Promise<void> | undefined;
        const { measure } = registerConsumerLagGauges(registry, async () => {
          connected ??= admin.connect().catch((err: unknown) => {
            connected = undefined;
            throw err;
          });
          await connected;
          return measureConsumerLag(admin, opts.groupPrefix, tails);
        });
        // /ready: whether Kafka answers the measurement (every 10 s besides the scrapes).
        const probe = new ConsumerLagProbe(measure, LAG_PROBE);
        probe.start();
        const shutdown = handleShutdown(log);
        const server = await startMetricsServer({
          host: config.api.host,
          port: opts.metricsPort ?? config.metricsPorts.lag,
          registry,
          readiness: () => probe.readiness(),
        });
        shutdown.onShutdown('metrics', () => {
          probe.stop();
          return server.close();
        });
        log.info({ port: server.port, groupPrefix: opts.groupPrefix }, 'serving consumer lag');
        await shutdown.done;
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'lag failed');
        env.out(`lag failed: ${failureReport(err)}`);
        env.setExitCode(EXIT.failed);
      } finally {
        await tails.close();
        await admin.disconnect();
      }
    });
}
