// The `continuum connect mongodb` process: telemetry.clean → MongoDB, /metrics, graceful stop.
import { MongoClient } from 'mongodb';
import type { Config } from '../../../core/config.ts';
import { createKafkaClient } from '../../../core/kafka-client.ts';
import type { Logger } from '../../../core/logger.ts';
import { startMetricsServer } from '../../../core/metrics-server.ts';
import { handleShutdown } from '../../../core/shutdown.ts';
import { createSchemaRegistry } from '../../../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../../../schemas/types.ts';
import { SinkRunner } from '../sink-runner.ts';
import { TelemetryHistorySink } from './telemetry-history-sink.ts';

export interface TelemetryHistoryOptions {
  topic: string;
  groupId: string;
  collection: string;
  metricsPort: number;
}

export function telemetryHistoryDefaults(config: Config): TelemetryHistoryOptions {
  return {
    topic: config.topics.telemetryClean,
    groupId: 'continuum-sink-mongodb-telemetry',
    collection: 'telemetry',
    metricsPort: config.metricsPorts.connect,
  };
}

export async function runTelemetryHistorySink(
  config: Config,
  log: Logger,
  options: TelemetryHistoryOptions,
): Promise<void> {
  const shutdown = handleShutdown(log);
  const metrics = await startMetricsServer({ host: config.api.host, port: options.metricsPort });
  shutdown.onShutdown('metrics', () => metrics.close());
  const mongo = new MongoClient(config.mongodb.url, { retryWrites: true });
  await mongo.connect();
  shutdown.onShutdown('mongodb', () => mongo.close());
  const sink = new TelemetryHistorySink(mongo.db(), options.collection);
  await sink.ensureIndexes();
  const registry = createSchemaRegistry(config);
  const runner = new SinkRunner<VehicleTelemetry>({
    onFatal: (err) => shutdown.trigger(`sink failed: ${err.message}`),
    kafka: createKafkaClient(config, 'sink-mongodb', log),
    topic: options.topic,
    groupId: options.groupId,
    sink,
    decode: async (bytes) => (await registry.decode(bytes)) as VehicleTelemetry,
    log,
  });
  await runner.start();
  shutdown.onShutdown('sink', () => runner.stop());
  log.info({ ...options, metricsPort: metrics.port }, 'mongodb telemetry sink running');
  await shutdown.done;
  // Stopped by a failure rather than a signal: the process must say so with its exit code.
  if (runner.error) throw runner.error;
}
