// The archive's sink as it was before buckets (one document per reading, `_id` = event id), kept
// only as the archive benchmark's same-run baseline.
import type { Collection, Db } from 'mongodb';
import type { Sink, SinkRecord } from '../connectors/sinks/sink.ts';
import type { VehicleTelemetry } from '../schemas/types.ts';

export const PER_READING_COLLECTION = 'telemetry';

interface ReadingDocument extends Omit<VehicleTelemetry, 'eventId' | 'eventTime'> {
  _id: string;
  eventTime: Date;
  source: { topic: string; partition: number; offset: string };
}

export class PerReadingSink implements Sink<VehicleTelemetry> {
  readonly name = 'mongodb';
  private readonly collection: Collection<ReadingDocument>;
  private pending: ReadingDocument[] = [];

  constructor(db: Db) {
    this.collection = db.collection<ReadingDocument>(PER_READING_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ vehicleId: 1, eventTime: 1 }, { name: 'vehicle_time' });
  }

  add(record: SinkRecord<VehicleTelemetry>): void {
    const { eventId, eventTime, ...rest } = record.value;
    this.pending.push({
      _id: eventId,
      ...rest,
      eventTime: new Date(eventTime),
      source: { topic: record.topic, partition: record.partition, offset: record.offset },
    });
  }

  /** Into a fresh database each row: no duplicates to forgive, so any failure fails the row. */
  async flush(): Promise<{ written: number }> {
    const batch = this.pending;
    if (batch.length > 0) await this.collection.insertMany(batch, { ordered: false });
    this.pending = [];
    return { written: batch.length };
  }

  close(): Promise<void> {
    this.pending = [];
    return Promise.resolve();
  }
}
