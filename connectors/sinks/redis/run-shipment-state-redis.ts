// The `continuum connect redis` process: shipment.state → Redis (hash, GEO index, status sets),
// /metrics, graceful stop.
import { runSinkProcess } from '../run-sink-process.ts';
import { Redis } from 'ioredis';
import type { Config } from '../../../core/config.ts';
import type { Logger } from '../../../core/logger.ts';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
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
  await runSinkProcess<UnifiedShipmentState>(config, log, 'redis', options, async (shutdown) => {
    // A bounded per-command retry turns an outage into a failed (retriable) flush, not a hang.
    const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 5 });
    redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
    await redis.connect();
    shutdown.onShutdown('redis', async () => {
      await redis.quit();
    });
    return new ShipmentStateRedisSink(redis, { keys: shipmentStateKeys(options.keyNamespace) });
  });
}
