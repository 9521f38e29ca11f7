// The telemetry archive's document: a bucket of one vehicle's readings from one flush, stored as
// columns (one array per field), as MongoDB's time-series collections store their buckets.
// Measured on FerretDB v1.24.2 / SQLite (bench/README.md, archive): one document per reading costs
// FerretDB ~90 ms of CPU per 1,000 readings, buckets holding an array of reading objects ~55 ms,
// column buckets 21–28 ms; FerretDB's cost follows the number of values and objects it encodes.
import type { SpeedUnit, TemperatureUnit, VehicleTelemetry } from '../../../schemas/types.ts';
import type { SinkRecord } from '../sink.ts';

/** Readings per bucket at most (MongoDB's time-series buckets hold up to 1,000 too). */
export const MAX_BUCKET_READINGS = 1_000;

export interface TelemetryBucket {
  /** Deterministic for the same records: see bucketId. */
  _id: string;
  vehicleId: string;
  /** Earliest and latest event time of its readings. */
  start: Date;
  end: Date;
  count: number;
  /** Where its readings came from: one partition of one topic (offsets in `columns.offset`). */
  source: { topic: string; partition: number };
  /** Reading i is the i-th element of every column, in offset order. */
  columns: {
    eventId: string[];
    eventTime: Date[];
    offset: string[];
    lat: number[];
    lon: number[];
    speed: number[];
    speedUnit: SpeedUnit[];
    headingDeg: number[];
    fuelPct: number[];
    engineTemp: number[];
    temperatureUnit: TemperatureUnit[];
    odometerKm: number[];
  };
}

/** One archived reading, as a bucket gives it back. */
export interface ArchivedReading extends Omit<VehicleTelemetry, 'vehicleId'> {
  vehicleId: string;
  source: { topic: string; partition: number; offset: string };
}

/**
 * topic/partition/first offset/count/vehicle: the same records (a replay of the same flush) give
 * the same id, so their insert is a duplicate key; a replay cut at other flush boundaries gives
 * other ids, and readers dedupe by event id. Offsets rather than event ids, which a reprocessed
 * topic may repeat. Topic names hold no '/', so everything after the fourth is the vehicle id.
 */
export function bucketId(
  topic: string,
  partition: number,
  firstOffset: string,
  count: number,
  vehicleId: string,
): string {
  return `${topic}/${partition}/${firstOffset}/${count}/${vehicleId}`;
}

/**
 * Groups one flush's records into buckets per (topic, partition, vehicle), keeping offset order,
 * at most `maxReadings` a bucket. Groups come out in the order of their first record.
 */
export function bucketsOf(
  records: readonly SinkRecord<VehicleTelemetry>[],
  maxReadings = MAX_BUCKET_READINGS,
): TelemetryBucket[] {
  const groups = new Map<string, SinkRecord<VehicleTelemetry>[][]>();
  for (const record of records) {
    const key = `${record.topic}/${record.partition}/${record.value.vehicleId}`;
    let chunks = groups.get(key);
    if (chunks === undefined) groups.set(key, (chunks = [[]]));
    let last = chunks[chunks.length - 1] ?? [];
    if (last.length >= maxReadings) chunks.push((last = []));
    last.push(record);
  }
  return [...groups.values()].flat().map(bucketOf);
}

function bucketOf(records: readonly SinkRecord<VehicleTelemetry>[]): TelemetryBucket {
  const first = records[0];
  if (first === undefined) throw new RangeError('a bucket needs at least one reading');
  const columns: TelemetryBucket['columns'] = {
    eventId: [],
    eventTime: [],
    offset: [],
    lat: [],
    lon: [],
    speed: [],
    speedUnit: [],
    headingDeg: [],
    fuelPct: [],
    engineTemp: [],
    temperatureUnit: [],
    odometerKm: [],
  };
  let start = Infinity;
  let end = -Infinity;
  for (const { value, offset } of records) {
    columns.eventId.push(value.eventId);
    columns.eventTime.push(new Date(value.eventTime));
    columns.offset.push(offset);
    columns.lat.push(value.lat);
    columns.lon.push(value.lon);
    columns.speed.push(value.speed);
    columns.speedUnit.push(value.speedUnit);
    columns.headingDeg.push(value.headingDeg);
    columns.fuelPct.push(value.fuelPct);
    columns.engineTemp.push(value.engineTemp);
    columns.temperatureUnit.push(value.temperatureUnit);
    columns.odometerKm.push(value.odometerKm);
    start = Math.min(start, value.eventTime);
    end = Math.max(end, value.eventTime);
  }
  return {
    _id: bucketId(
      first.topic,
      first.partition,
      first.offset,
      records.length,
      first.value.vehicleId,
    ),
    vehicleId: first.value.vehicleId,
    start: new Date(start),
    end: new Date(end),
    count: records.length,
    source: { topic: first.topic, partition: first.partition },
    columns,
  };
}

/** A bucket's readings, in the order they were stored. */
export function readingsOf(bucket: TelemetryBucket): ArchivedReading[] {
  const c = bucket.columns;
  const readings: ArchivedReading[] = [];
  for (let i = 0; i < bucket.count; i++)
    readings.push({
      eventId: c.eventId[i] as string,
      vehicleId: bucket.vehicleId,
      eventTime: (c.eventTime[i] as Date).getTime(),
      lat: c.lat[i] as number,
      lon: c.lon[i] as number,
      speed: c.speed[i] as number,
      speedUnit: c.speedUnit[i] as SpeedUnit,
      headingDeg: c.headingDeg[i] as number,
      fuelPct: c.fuelPct[i] as number,
      engineTemp: c.engineTemp[i] as number,
      temperatureUnit: c.temperatureUnit[i] as TemperatureUnit,
      odometerKm: c.odometerKm[i] as number,
      source: { ...bucket.source, offset: c.offset[i] as string },
    });
  return readings;
}
