// `continuum connect cdc`: runs the PostgreSQL CDC source (shipments → shipments.cdc) with
// /metrics on CONTINUUM_CONNECT_METRICS_PORT, until SIGTERM/SIGINT.
import { failureReport } from '../../core/failure-report.ts';
import {
  runShipmentStatePostgresSink,
  shipmentStatePostgresDefaults,
} from '../../connectors/sinks/postgres/run-shipment-state-postgres.ts';
import {
  runShipmentStateRedisSink,
  shipmentStateRedisDefaults,
} from '../../connectors/sinks/redis/run-shipment-state-redis.ts';
import { Command, Option } from 'commander';
import { cdcOptionsFromConfig } from '../../connectors/sources/postgres-cdc/env.ts';
import {
  runTelemetryHistorySink,
  telemetryHistoryDefaults,
} from '../../connectors/sinks/mongodb/run-telemetry-history.ts';
import { runCdcSource } from '../../connectors/sources/postgres-cdc/run-source.ts';
import { EXIT } from '../exit-codes.ts';
import { preparePlatformTopics } from '../platform-topics.ts';
import type { CommandEnv } from './stack.ts';

interface CdcFlags {
  schema?: string;
  table?: string;
  publication?: string;
  slot?: string;
  topic?: string;
  heartbeatMs?: number;
  snapshot?: 'initial' | 'never';
  metrics: boolean;
}

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${value}`);
  return n;
};

interface SinkFlags {
  topic?: string;
  group?: string;
  metricsPort?: number;
}

export function connectCommand(env: CommandEnv): Command {
  const connect = new Command('connect').description(
    'sources and sinks at the edges of Kafka: PostgreSQL CDC in; MongoDB, Redis and PostgreSQL out',
  );
  connect
    .command('cdc')
    .description(
      'stream committed changes of the PostgreSQL shipments table to Kafka (initial snapshot when the slot is new)',
    )
    .option('--schema <name>', 'schema of the source table (CONTINUUM_CDC_SCHEMA)')
    .option('--table <name>', 'source table (CONTINUUM_CDC_TABLE)')
    .option('--publication <name>', 'publication, created when missing (CONTINUUM_CDC_PUBLICATION)')
    .option('--slot <name>', 'replication slot, created when missing (CONTINUUM_CDC_SLOT)')
    .option('--topic <name>', 'target topic (default CONTINUUM_TOPIC_SHIPMENTS_CDC)')
    .option(
      '--heartbeat-ms <ms>',
      'heartbeat interval while idle (CONTINUUM_CDC_HEARTBEAT_MS)',
      integer,
    )
    .addOption(
      new Option(
        '--snapshot <mode>',
        'initial snapshot when the slot is new (CONTINUUM_CDC_SNAPSHOT_MODE)',
      ).choices(['initial', 'never']),
    )
    .option('--no-metrics', 'do not serve /metrics')
    .action(async (flags: CdcFlags) => {
      const config = env.config();
      let source;
      try {
        source = cdcOptionsFromConfig(config, {
          schema: flags.schema,
          table: flags.table,
          publication: flags.publication,
          slot: flags.slot,
          topic: flags.topic,
          heartbeatIntervalMs: flags.heartbeatMs,
          snapshotMode: flags.snapshot,
        });
      } catch (err) {
        env.out(err instanceof Error ? err.message : String(err));
        env.setExitCode(EXIT.config);
        return;
      }
      const log = env.log();
      try {
        await preparePlatformTopics(config, log);
        await runCdcSource({
          source,
          log,
          metrics: flags.metrics
            ? { host: config.api.host, port: config.metricsPorts.connect }
            : undefined,
        });
      } catch (err) {
        log.error({ err }, 'CDC source failed');
        // For a person too: the cause and what to do (a TRUNCATE's error names the slot and both ways on).
        env.out(`CDC source failed: ${failureReport(err)}`);
        env.setExitCode(EXIT.failed);
      }
    });
  const sink = (
    name: string,
    description: string,
    run: (flags: SinkFlags) => Promise<void>,
  ): void => {
    connect
      .command(name)
      .description(description)
      .option('--topic <name>', 'topic to read')
      .option('--group <id>', 'consumer group id')
      .option(
        '--metrics-port <port>',
        '/metrics port (default CONTINUUM_CONNECT_METRICS_PORT; give each sink process its own)',
        integer,
      )
      .action(async (flags: SinkFlags) => {
        try {
          await preparePlatformTopics(env.config(), env.log());
          await run(flags);
        } catch (err) {
          env.log().error({ err }, `${name} sink failed`);
          env.setExitCode(EXIT.failed);
        }
      });
  };
  const withFlags = <T extends { topic: string; groupId: string; metricsPort: number }>(
    defaults: T,
    flags: SinkFlags,
  ): T => ({
    ...defaults,
    topic: flags.topic ?? defaults.topic,
    groupId: flags.group ?? defaults.groupId,
    metricsPort: flags.metricsPort ?? defaults.metricsPort,
  });
  sink(
    'mongodb',
    "archive telemetry.clean into MongoDB (buckets of a vehicle's readings, indexed by vehicle and time)",
    (flags) =>
      runTelemetryHistorySink(
        env.config(),
        env.log(),
        withFlags(telemetryHistoryDefaults(env.config()), flags),
      ),
  );
  sink(
    'redis',
    'shipment.state → Redis: a hash per shipment, a GEO index, status sets (newer versions only)',
    (flags) =>
      runShipmentStateRedisSink(
        env.config(),
        env.log(),
        withFlags(shipmentStateRedisDefaults(env.config()), flags),
      ),
  );
  sink(
    'postgres',
    'shipment.state → PostgreSQL shipment_state (batched upsert of newer versions only)',
    (flags) =>
      runShipmentStatePostgresSink(
        env.config(),
        env.log(),
        withFlags(shipmentStatePostgresDefaults(env.config()), flags),
      ),
  );
  return connect;
}
