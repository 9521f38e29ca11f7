// telemetry.clean → MongoDB `telemetry_buckets`: at each flush, the pending readings grouped per
// (partition, vehicle) into column buckets (telemetry-buckets.ts), indexed for per-vehicle time
// ranges. A replay of the same flush rewrites nothing (same bucket ids); one cut at other flush
// boundaries stores some readings twice, and readers dedupe by event id.
import {
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoServerSelectionError,
  type Collection,
  type Db,
} from 'mongodb';
import { SinkWriteError } from '../../../core/errors.ts';
import type { VehicleTelemetry } from '../../../schemas/types.ts';
import type { Sink, SinkRecord } from '../sink.ts';
import { bucketsOf, type TelemetryBucket } from './telemetry-buckets.ts';

/**
 * Buckets, not the one-document-per-reading `telemetry` of before: a collection of its own, so
 * the two shapes never mix (the old collection is left as it was; drop it by hand).
 */
export const TELEMETRY_COLLECTION = 'telemetry_buckets';

export class TelemetryHistorySink implements Sink<VehicleTelemetry> {
  readonly name = 'mongodb';
  private readonly collection: Collection<TelemetryBucket>;
  private pending: SinkRecord<VehicleTelemetry>[] = [];

  constructor(db: Db, collectionName = TELEMETRY_COLLECTION) {
    this.collection = db.collection<TelemetryBucket>(collectionName);
  }

  /**
   * The reader's index: a vehicle's buckets in `start` order (it filters on `end`); idempotent.
   */
  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ vehicleId: 1, start: 1 }, { name: 'vehicle_start' });
  }

  add(record: SinkRecord<VehicleTelemetry>): void {
    this.pending.push(record);
  }

  /**
   * Inserts the buckets, unordered; a bucket whose id is already there is a replay of the same
   * records, so a duplicate key is not an error. Inserts,
   * not upserts: FerretDB (our MongoDB on the native stack) upserts ~100× slower (measured:
   * 2,000 documents in 6.3 s upserted, 68 ms inserted), which made a flush outlast the group's
   * session.
   */
  async flush(): Promise<{ written: number }> {
    if (this.pending.length === 0) return { written: 0 };
    const batch = this.pending;
    const buckets = bucketsOf(batch);
    try {
      await this.collection.insertMany(buckets, { ordered: false });
    } catch (err) {
      if (!onlyDuplicates(err)) {
        // Keep the batch: the runner retries the flush when that can help.
        throw new SinkWriteError('mongodb insert of telemetry failed', {
          cause: err,
          retriable: isRetriableMongoError(err),
          context: {
            collection: this.collection.collectionName,
            buckets: buckets.length,
            readings: batch.length,
          },
        });
      }
    }
    this.pending = [];
    return { written: batch.length };
  }

  discard(): void {
    this.pending = [];
  }

  close(): Promise<void> {
    this.pending = [];
    return Promise.resolve();
  }
}

/** A bulk write whose every failure is a duplicate key (E11000): the documents were there. */
function onlyDuplicates(err: unknown): boolean {
  if (!(err instanceof MongoBulkWriteError)) return false;
  const errors: { code?: unknown }[] = Array.isArray(err.writeErrors)
    ? (err.writeErrors as { code?: unknown }[])
    : [err.writeErrors as { code?: unknown }];
  return errors.length > 0 && errors.every((e) => e.code === 11000);
}

/** Whether trying again can help: the server unreachable or busy, not a refused document. */
function isRetriableMongoError(err: unknown): boolean {
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError) return true;
  return err instanceof MongoError && err.hasErrorLabel('RetryableWriteError');
}
