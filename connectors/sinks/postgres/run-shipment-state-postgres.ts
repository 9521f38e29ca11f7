// The `continuum connect postgres` process: shipment.state → PostgreSQL shipment_state,
// /metrics, graceful stop.
import { runSinkProcess } from '../run-sink-process.ts';
import pg from 'pg';
import type { Config } from '../../../core/config.ts';
import type { Logger } from '../../../core/logger.ts';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
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
  await runSinkProcess<UnifiedShipmentState>(config, log, 'postgres', options, async (shutdown) => {
    const pool = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
    // An idle pooled connection that breaks emits 'error'; the next query reconnects.
    pool.on('error', (err) => log.warn({ err: err.message }, 'idle postgres connection failed'));
    shutdown.onShutdown('postgres', () => pool.end());
    const sink = new ShipmentStatePostgresSink(pool, { schema: options.schema });
    await sink.ensureTable();
    return sink;
  });
}
