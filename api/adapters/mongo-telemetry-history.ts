// The telemetry-history port on what the MongoDB sink writes: buckets of one vehicle's readings
// (connectors/sinks/mongodb/telemetry-buckets.ts), read in `start` order, a few at a time, until
// the page is complete (HistoryPage: deduplicated by event id, in (eventTime, eventId) order).
import type { Db, Filter } from 'mongodb';
import { TELEMETRY_COLLECTION } from '../../connectors/sinks/mongodb/telemetry-history-sink.ts';
import type { TelemetryBucket } from '../../connectors/sinks/mongodb/telemetry-buckets.ts';
import type { TelemetryHistory } from '../ports.ts';
import { HistoryPage, lowestEventTime } from './telemetry-history-page.ts';

/** Buckets fetched per round trip: a page of 200 readings usually sits in a few of them. */
const BUCKETS_PER_FETCH = 16;

export function mongoTelemetryHistory(db: Db, collection = TELEMETRY_COLLECTION): TelemetryHistory {
  const buckets = db.collection<TelemetryBucket>(collection);
  return {
    async list(query) {
      const filter: Filter<TelemetryBucket> = { vehicleId: query.vehicleId };
      const lowest = lowestEventTime(query);
      if (lowest !== undefined) filter.end = { $gte: new Date(lowest) };
      if (query.to !== undefined) filter.start = { $lt: new Date(query.to) };
      const page = new HistoryPage(query);
      const cursor = buckets.find(filter).sort({ start: 1, _id: 1 }).batchSize(BUCKETS_PER_FETCH);
      try {
        for await (const bucket of cursor) {
          if (page.completeBefore(bucket.start.getTime())) break;
          page.add(bucket);
        }
      } finally {
        await cursor.close();
      }
      return page.readings().map((r) => ({
        eventId: r.eventId,
        vehicleId: r.vehicleId,
        eventTime: r.eventTime,
        lat: r.lat,
        lon: r.lon,
        // telemetry.clean is normalized: km/h and °C whatever the producer sent.
        speedKmh: r.speed,
        headingDeg: r.headingDeg,
        fuelPct: r.fuelPct,
        engineTempC: r.engineTemp,
        odometerKm: r.odometerKm,
        source: r.source,
      }));
    },
  };
}
