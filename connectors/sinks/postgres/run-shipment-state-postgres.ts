// The `continuum connect postgres` process: shipment.state → PostgreSQL shipment_state,
// /metrics, graceful stop.
import pg from 'pg';
import type { Config } from '../../../core/config.ts';
import { createKafkaClient } from '../../../core/kafka-client.ts';
import type { Logger } from '../../../core/logger.ts';
import { startMetricsServer } from '../../../core/metrics-server.ts';
import { handleShutdown } from '../../../core/shutdown.ts';
import { createSchemaRegistry } from '../../../schemas/event-schemas.ts';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import { SinkRunner } from '../sink-runner.ts';
import { ShipmentStatePostgresSink } from './shipment-state-postgres-sink.ts';

export interface ShipmentStatePostgresOptions {
  topic: string;
  groupId: string;
  /** PostgreSQL schema of the shipment_state table (created when missing). */
  schema: string;
  metricsPort: number;
}

export function shipmentStatePostgresDefaults(config: Config): ShipmentStatePostgresOptions {
  return {
    topic: config.topics.shipmentState,
    groupId: 'continuum-sink-postgres-shipment-state',
    schema: 'public',
    metricsPort: config.metricsPorts.connect,
  };
}

export async function runShipmentStatePostgresSink(
  config: Config,
  log: Logger,
  options: ShipmentStatePostgresOptions,
): Promise<void> {
  const shutdown = handleShutdown(log);
  const metrics = await startMetricsServer({ host: config.api.host, port: options.metricsPort });
  shutdown.onShutdown('metrics', () => metrics.close());
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
  // An idle pooled connection that breaks emits 'error'; the next query reconnects.
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle postgres connection failed'));
  shutdown.onShutdown('postgres', () => pool.end());
  const sink = new ShipmentStatePostgresSink(pool, { schema: options.schema });
  await sink.ensureTable();
  const registry = createSchemaRegistry(config);
  const runner = new SinkRunner<UnifiedShipmentState>({
    onFatal: (err) => shutdown.trigger(`sink failed: ${err.message}`),
    kafka: createKafkaClient(config, 'sink-postgres', log),
    topic: options.topic,
    groupId: options.groupId,
    sink,
    decode: async (bytes) => (await registry.decode(bytes)) as UnifiedShipmentState,
    log,
  });
  await runner.start();
  shutdown.onShutdown('sink', () => runner.stop());
  log.info({ ...options, metricsPort: metrics.port }, 'postgres shipment-state sink running');
  await shutdown.done;
  // Stopped by a failure rather than a signal: the process must say so with its exit code.
  if (runner.error) throw runner.error;
}
