// telemetry.clean → MongoDB `telemetry` collection: one document per event, `_id` = event id
// (so a replayed batch rewrites the same documents), indexed for per-vehicle time-range queries.
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { SinkWriteError } from '../../../core/errors.ts';
import type { VehicleTelemetry } from '../../../schemas/types.ts';
import type { Sink, SinkRecord } from '../sink.ts';

export interface TelemetryDocument extends Omit<VehicleTelemetry, 'eventId' | 'eventTime'> {
  _id: string;
  eventTime: Date;
  /** Where it came from, for audits and replays. */
  source: { topic: string; partition: number; offset: string };
}

export const TELEMETRY_COLLECTION = 'telemetry';

export class TelemetryHistorySink implements Sink<VehicleTelemetry> {
  readonly name = 'mongodb';
  private readonly collection: Collection<TelemetryDocument>;
  private pending: AnyBulkWriteOperation<TelemetryDocument>[] = [];

  constructor(db: Db, collectionName = TELEMETRY_COLLECTION) {
    this.collection = db.collection<TelemetryDocument>(collectionName);
  }

  /** Creates the per-vehicle time-range index; idempotent. */
  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ vehicleId: 1, eventTime: 1 }, { name: 'vehicle_time' });
  }

  add(record: SinkRecord<VehicleTelemetry>): void {
    const { eventId, eventTime, ...rest } = record.value;
    const doc: TelemetryDocument = {
      _id: eventId,
      ...rest,
      eventTime: new Date(eventTime),
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
    };
    this.pending.push({ replaceOne: { filter: { _id: eventId }, replacement: doc, upsert: true } });
  }

  async flush(): Promise<{ written: number }> {
    if (this.pending.length === 0) return { written: 0 };
    const batch = this.pending;
    try {
      await this.collection.bulkWrite(batch, { ordered: false });
    } catch (err) {
      // Keep the batch: the runner retries the flush, and upserts by _id make a retry harmless.
      throw new SinkWriteError('mongodb bulk upsert of telemetry failed', {
        cause: err,
        retriable: true,
        context: { collection: this.collection.collectionName, documents: batch.length },
      });
    }
    this.pending = [];
    return { written: batch.length };
  }

  close(): Promise<void> {
    this.pending = [];
    return Promise.resolve();
  }
}
