// The `continuum connect mongodb` process: telemetry.clean → MongoDB, /metrics, graceful stop.
import { runSinkProcess } from '../run-sink-process.ts';
import { MongoClient } from 'mongodb';
import type { Config } from '../../../core/config.ts';
import type { Logger } from '../../../core/logger.ts';
import type { VehicleTelemetry } from '../../../schemas/types.ts';
import { TELEMETRY_COLLECTION, TelemetryHistorySink } from './telemetry-history-sink.ts';

export interface TelemetryHistoryOptions {
  topic: string;
  groupId: string;
  collection: string;
  metricsPort: number;
  flushRecords: number;
  flushBytes: number;
}

export function telemetryHistoryDefaults(config: Config): TelemetryHistoryOptions {
  return {
    topic: config.topics.telemetryClean,
    // A group of its own for the bucket collection: it starts from the beginning of what
    // telemetry.clean retains, so the archive is rebuilt in the bucket shape.
    groupId: 'continuum-sink-mongodb-telemetry-buckets',
    collection: TELEMETRY_COLLECTION,
    metricsPort: config.metricsPorts.connect,
    // Larger than the other sinks': in a catch-up a flush of 10,000 readings makes buckets of
    // tens of readings per vehicle, and FerretDB's CPU per reading falls with the bucket size.
    flushRecords: config.archive.flushRecords,
    flushBytes: config.archive.flushBytes,
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
