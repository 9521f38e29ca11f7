// The `continuum connect redis` process: shipment.state → Redis (hash, GEO index, status sets),
// /metrics, graceful stop.
import { Redis } from 'ioredis';
import type { Config } from '../../../core/config.ts';
import { createKafkaClient } from '../../../core/kafka-client.ts';
import type { Logger } from '../../../core/logger.ts';
import { startMetricsServer } from '../../../core/metrics-server.ts';
import { handleShutdown } from '../../../core/shutdown.ts';
import { createSchemaRegistry } from '../../../schemas/event-schemas.ts';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import { SinkRunner } from '../sink-runner.ts';
import { shipmentStateKeys } from './shipment-state-hash.ts';
import { ShipmentStateRedisSink } from './shipment-state-redis-sink.ts';

export interface ShipmentStateRedisOptions {
  topic: string;
  groupId: string;
  /** Prepended to every key (`<ns>shipment:{id}`, `<ns>shipments:geo`, …); '' in production. */
  keyNamespace: string;
  metricsPort: number;
}

export function shipmentStateRedisDefaults(config: Config): ShipmentStateRedisOptions {
  return {
    topic: config.topics.shipmentState,
    groupId: 'continuum-sink-redis-shipment-state',
    keyNamespace: '',
    metricsPort: config.metricsPorts.connect,
  };
}

export async function runShipmentStateRedisSink(
  config: Config,
  log: Logger,
  options: ShipmentStateRedisOptions,
): Promise<void> {
  const shutdown = handleShutdown(log);
  const metrics = await startMetricsServer({ host: config.api.host, port: options.metricsPort });
  shutdown.onShutdown('metrics', () => metrics.close());
  // A bounded per-command retry turns an outage into a failed (retriable) flush, not a hang.
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 5 });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
  await redis.connect();
  shutdown.onShutdown('redis', async () => {
    await redis.quit();
  });
  const sink = new ShipmentStateRedisSink(redis, { keys: shipmentStateKeys(options.keyNamespace) });
  const registry = createSchemaRegistry(config);
  const runner = new SinkRunner<UnifiedShipmentState>({
    onFatal: (err) => shutdown.trigger(`sink failed: ${err.message}`),
    kafka: createKafkaClient(config, 'sink-redis', log),
    topic: options.topic,
    groupId: options.groupId,
    sink,
    decode: async (bytes) => (await registry.decode(bytes)) as UnifiedShipmentState,
    log,
  });
  await runner.start();
  shutdown.onShutdown('sink', () => runner.stop());
  log.info({ ...options, metricsPort: metrics.port }, 'redis shipment-state sink running');
  await shutdown.done;
  // Stopped by a failure rather than a signal: the process must say so with its exit code.
  if (runner.error) throw runner.error;
}
