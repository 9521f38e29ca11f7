// The telemetry-history port on what the MongoDB sink writes: one document per cleaned reading,
// indexed by (vehicleId, eventTime); pages continue after the last (eventTime, _id).
import type { Db, Filter } from 'mongodb';
import {
  TELEMETRY_COLLECTION,
  type TelemetryDocument,
} from '../../connectors/sinks/mongodb/telemetry-history-sink.ts';
import type { TelemetryHistory } from '../ports.ts';

export function mongoTelemetryHistory(db: Db, collection = TELEMETRY_COLLECTION): TelemetryHistory {
  const docs = db.collection<TelemetryDocument>(collection);
  return {
    async list({ vehicleId, from, to, after, limit }) {
      const time: { $gte?: Date; $lt?: Date } = {};
      if (from !== undefined) time.$gte = new Date(from);
      if (to !== undefined) time.$lt = new Date(to);
      const filter: Filter<TelemetryDocument> = { vehicleId };
      if (from !== undefined || to !== undefined) filter.eventTime = time;
      if (after !== undefined)
        filter.$or = [
          { eventTime: { $gt: new Date(after.eventTime) } },
          { eventTime: new Date(after.eventTime), _id: { $gt: after.eventId } },
        ];
      const found = await docs.find(filter).sort({ eventTime: 1, _id: 1 }).limit(limit).toArray();
      return found.map((d) => ({
        eventId: d._id,
        vehicleId: d.vehicleId,
        eventTime: d.eventTime.getTime(),
        lat: d.lat,
        lon: d.lon,
        // telemetry.clean is normalized: km/h and °C whatever the producer sent.
        speedKmh: d.speed,
        headingDeg: d.headingDeg,
        fuelPct: d.fuelPct,
        engineTempC: d.engineTemp,
        odometerKm: d.odometerKm,
        source: d.source,
      }));
    },
  };
}
