// The `continuum connect mongodb` process: telemetry.clean → MongoDB, /metrics, graceful stop.
import { runSinkProcess } from '../run-sink-process.ts';
import { MongoClient } from 'mongodb';
import type { Config } from '../../../core/config.ts';
import type { Logger } from '../../../core/logger.ts';
import type { VehicleTelemetry } from '../../../schemas/types.ts';
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
  await runSinkProcess<VehicleTelemetry>(config, log, 'mongodb', options, async (shutdown) => {
    const mongo = new MongoClient(config.mongodb.url, { retryWrites: true });
    await mongo.connect();
    shutdown.onShutdown('mongodb', () => mongo.close());
    const sink = new TelemetryHistorySink(mongo.db(), options.collection);
    await sink.ensureIndexes();
    return sink;
  });
}
