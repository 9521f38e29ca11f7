// The offline fold: a pure reference of what the stream pipeline must leave behind (telemetry.clean,
// the DLQs, shipment.state and what Redis and PostgreSQL hold, deliveries.completed), computed
// from the input topics alone (shipments.cdc and telemetry.raw as read back). It restates the
// rules documented in streams/clean/README.md and streams/join/README.md but shares no code with
// streams/, so a bug on either side shows up as a difference.
//
// The pipeline's results depend on event time only, so the fold is exact: one expected last
// state per shipment (every field, version included) and one expected training example per
// delivery, whatever order the pipeline's two inputs arrived in. What it assumes, and what the
// tests arrange: the input ends (every held reading is released when the cleaner goes quiet,
// every finished shipment made final when the join does), no task goes quiet mid-run, no
// vehicle changes mid-trip (the simulator never reassigns), runs are shorter than the
// processors' retentions, and changeSeq stays below 1,024.
import type {
  DeliveryCheckpoint,
  DeliveryExample,
  Shipment,
  ShipmentChange,
  ShipmentStatus,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../../schemas/types.ts';

/** One record of an input topic as read back; `value` undefined when it did not decode. */
export interface InputRecord<T> {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: T | undefined;
}

interface Range {
  min: number;
  max: number;
}

/** The processors' defaults (streams/clean/clean-telemetry.ts, streams/join/*), restated. */
export const FOLD_DEFAULTS = {
  graceMs: 60_000,
  dedupeWindowMs: 10 * 60_000,
  maxImpliedSpeedKmh: 300,
  relocateAfterJumps: 3,
  limits: {
    lat: { min: -90, max: 90 },
    lon: { min: -180, max: 180 },
    speedKmh: { min: 0, max: 250 },
    fuelPct: { min: 0, max: 100 },
    engineTempC: { min: -40, max: 150 },
    headingDeg: { min: 0, max: 360 },
  } satisfies Record<string, Range>,
  versionStride: 2 ** 43,
  checkpointIntervalMs: 5 * 60_000,
  /** An event time this far ahead of `now` is dead-lettered as future. */
  maxFutureMs: 5 * 60_000,
  eta: {
    minSpeedKmh: 20,
    stoppedBelowKmh: 5,
    typicalSpeedKmh: 60,
    intervalFraction: 0.2,
    intervalFixedMs: 5 * 60_000,
    modelVersion: 'baseline-v1',
  },
} as const;

export type FoldOptions = typeof FOLD_DEFAULTS;

/** The input asks for behaviour the fold does not model (see the file header). */
export class FoldScopeError extends Error {
  readonly context: Record<string, unknown>;
  constructor(message: string, context: Record<string, unknown>) {
    super(message);
    this.name = 'FoldScopeError';
    this.context = context;
  }
}

/** A record the pipeline must dead-letter: where it was and why. */
export interface ExpectedRejection {
  partition: number;
  offset: number;
  stage: 'deserialize' | 'extract-timestamp' | 'process';
  /** The domain reason (continuum.error.reason) of a process-stage rejection. */
  reason?: string;
}

// ---- telemetry.raw → telemetry.clean ----------------------------------------------------------

/** A clean reading and where the telemetry.raw record it came from was. */
export interface CleanReading {
  reading: VehicleTelemetry;
  partition: number;
  offset: number;
}

export interface TelemetryFold {
  /** Per vehicle, what telemetry.clean must hold, in order (all of it, once the cleaner went quiet). */
  clean: Map<string, CleanReading[]>;
  /** The partition each vehicle's readings are on (telemetry.raw, and so telemetry.clean). */
  partitionOf: Map<string, number>;
  rejected: ExpectedRejection[];
  duplicates: number;
}

interface VehicleFold {
  lastReleased: VehicleTelemetry | null;
  pending: CleanReading[];
  jumpStreak: number;
}

const KM_PER_MILE = 1.609344;

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** km/h and °C, as telemetry.clean carries them. */
export function normalizeReading(raw: VehicleTelemetry): VehicleTelemetry {
  return {
    ...raw,
    speed: raw.speedUnit === 'MPH' ? round(raw.speed * KM_PER_MILE, 2) : raw.speed,
    speedUnit: 'KMH',
    engineTemp:
      raw.temperatureUnit === 'FAHRENHEIT'
        ? round(((raw.engineTemp - 32) * 5) / 9, 2)
        : raw.engineTemp,
    temperatureUnit: 'CELSIUS',
  };
}

function withinLimits(e: VehicleTelemetry, o: FoldOptions): boolean {
  const l = o.limits;
  const checks: [number, Range][] = [
    [e.lat, l.lat],
    [e.lon, l.lon],
    [e.speed, l.speedKmh],
    [e.fuelPct, l.fuelPct],
    [e.engineTemp, l.engineTempC],
    [e.headingDeg, l.headingDeg],
    [e.odometerKm, { min: 0, max: Number.MAX_VALUE }],
    [e.eventTime, { min: 0, max: Number.MAX_SAFE_INTEGER }],
  ];
  return checks.every(([v, r]) => Number.isFinite(v) && v >= r.min && v <= r.max);
}

const EARTH_RADIUS_KM = 6371.0088;
const ROAD_FACTOR = 1.25;

interface Point {
  lat: number;
  lon: number;
}

/** Great circle distance; the same formula (and float operations) as the simulator's. */
export function greatCircleKm(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function roadKm(a: Point, b: Point): number {
  return greatCircleKm(a, b) * ROAD_FACTOR;
}

function isTime(t: number): boolean {
  return Number.isFinite(t) && t >= 0;
}

/**
 * Folds telemetry.raw, partition by partition in offset order (each partition is one task).
 * After every accepted reading the cleaner releases, for every vehicle, the held readings a
 * grace period behind the watermark, and forgets event ids older than the dedupe window; at
 * the end (the task went quiet) it releases everything it holds.
 */
export function foldTelemetry(
  records: readonly InputRecord<VehicleTelemetry>[],
  options: FoldOptions = FOLD_DEFAULTS,
  now = Date.now(),
): TelemetryFold {
  const clean = new Map<string, CleanReading[]>();
  const partitionOf = new Map<string, number>();
  const rejected: ExpectedRejection[] = [];
  let duplicates = 0;
  const partitions = [...new Set(records.map((r) => r.partition))].sort((a, b) => a - b);
  for (const partition of partitions) {
    const inPartition = records
      .filter((r) => r.partition === partition)
      .sort((a, b) => a.offset - b.offset);
    let watermark = Number.NEGATIVE_INFINITY;
    const seen = new Map<string, number>();
    const vehicles = new Map<string, VehicleFold>();
    const reject = (
      r: InputRecord<VehicleTelemetry>,
      reason?: string,
      stage: ExpectedRejection['stage'] = reason === undefined ? 'deserialize' : 'process',
    ): void => {
      rejected.push({
        partition,
        offset: r.offset,
        stage,
        ...(reason === undefined ? {} : { reason }),
      });
    };
    const release = (vehicle: VehicleFold, upTo: number): void => {
      while (vehicle.pending[0] && vehicle.pending[0].reading.eventTime + options.graceMs <= upTo) {
        const next = vehicle.pending.shift() as CleanReading;
        const out = clean.get(next.reading.vehicleId) ?? [];
        out.push(next);
        clean.set(next.reading.vehicleId, out);
        vehicle.lastReleased = next.reading;
      }
    };
    for (const record of inPartition) {
      const raw = record.value;
      if (raw === undefined) {
        reject(record);
        continue;
      }
      // The source's event time is the reading's own; a record without one never reaches the cleaner.
      if (!isTime(raw.eventTime)) {
        reject(record, 'invalid-timestamp', 'extract-timestamp');
        continue;
      }
      if (raw.eventTime > now + options.maxFutureMs) {
        reject(record, 'future', 'extract-timestamp');
        continue;
      }
      if (record.key !== raw.vehicleId) {
        reject(record, 'key-mismatch');
        continue;
      }
      const event = normalizeReading(raw);
      if (!withinLimits(event, options)) {
        reject(record, 'impossible-value');
        continue;
      }
      if (seen.has(event.eventId)) {
        duplicates += 1;
        continue;
      }
      const vehicle = vehicles.get(event.vehicleId) ?? {
        lastReleased: null,
        pending: [],
        jumpStreak: 0,
      };
      vehicles.set(event.vehicleId, vehicle);
      partitionOf.set(event.vehicleId, partition);
      if (vehicle.lastReleased && event.eventTime < vehicle.lastReleased.eventTime) {
        reject(record, 'late');
        continue;
      }
      if (isGpsJump(event, vehicle, options)) {
        vehicle.jumpStreak += 1;
        reject(record, 'gps-jump');
        continue;
      }
      seen.set(event.eventId, event.eventTime);
      vehicle.jumpStreak = 0;
      const held: CleanReading = { reading: event, partition, offset: record.offset };
      const at = vehicle.pending.findIndex((p) => p.reading.eventTime > event.eventTime);
      if (at === -1) vehicle.pending.push(held);
      else vehicle.pending.splice(at, 0, held);
      watermark = Math.max(watermark, event.eventTime);
      for (const v of vehicles.values()) release(v, watermark);
      for (const [id, time] of seen) if (time < watermark - options.dedupeWindowMs) seen.delete(id);
    }
    // The input ended: the quiet cleaner releases everything it holds.
    for (const v of vehicles.values()) release(v, Number.POSITIVE_INFINITY);
  }
  return { clean, partitionOf, rejected, duplicates };
}

/** Compared with its neighbour in event time (before it, else after it); see the cleaner's README. */
function isGpsJump(event: VehicleTelemetry, vehicle: VehicleFold, options: FoldOptions): boolean {
  const fixes = [
    ...(vehicle.lastReleased ? [vehicle.lastReleased] : []),
    ...vehicle.pending.map((p) => p.reading),
  ];
  const before = fixes.filter((f) => f.eventTime <= event.eventTime).at(-1);
  const neighbour = before ?? fixes.find((f) => f.eventTime > event.eventTime);
  if (!neighbour) return false;
  const hours = Math.max(Math.abs(event.eventTime - neighbour.eventTime), 1_000) / 3_600_000;
  if (greatCircleKm(neighbour, event) / hours <= options.maxImpliedSpeedKmh) return false;
  return vehicle.jumpStreak + 1 < options.relocateAfterJumps;
}

// ---- shipments.cdc → the last valid change per shipment ---------------------------------------

export interface AppliedChange {
  change: ShipmentChange;
  partition: number;
  offset: number;
  /** The change's event time (its row's updatedAt): what the join stamps its state with. */
  timestamp: number;
}

export interface ShipmentsFold {
  /** The last change the cleaner forwarded with an after image, per shipment. */
  last: Map<string, AppliedChange>;
  /** Every change the cleaner forwarded with an after image, per shipment, in order. */
  valid: Map<string, AppliedChange[]>;
  rejected: ExpectedRejection[];
  duplicates: number;
}

const TRANSITIONS: Readonly<Record<ShipmentStatus, readonly ShipmentStatus[]>> = {
  CREATED: ['ASSIGNED', 'CANCELLED'],
  ASSIGNED: ['PICKED_UP', 'CANCELLED'],
  PICKED_UP: ['IN_TRANSIT', 'EXCEPTION'],
  IN_TRANSIT: ['OUT_FOR_DELIVERY', 'EXCEPTION'],
  OUT_FOR_DELIVERY: ['DELIVERED', 'EXCEPTION'],
  EXCEPTION: ['IN_TRANSIT', 'OUT_FOR_DELIVERY', 'CANCELLED'],
  DELIVERED: [],
  CANCELLED: [],
};

function allowed(from: ShipmentStatus, to: ShipmentStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

interface Lifecycle {
  status: ShipmentStatus;
  changeSeq: number;
  commitLsn: number;
  lsn: number;
}

export function foldShipments(
  records: readonly InputRecord<ShipmentChange>[],
  options: FoldOptions = FOLD_DEFAULTS,
  now = Date.now(),
): ShipmentsFold {
  const last = new Map<string, AppliedChange>();
  const valid = new Map<string, AppliedChange[]>();
  const rejected: ExpectedRejection[] = [];
  let duplicates = 0;
  const partitions = [...new Set(records.map((r) => r.partition))].sort((a, b) => a - b);
  for (const partition of partitions) {
    const lifecycle = new Map<string, Lifecycle>();
    const inPartition = records
      .filter((r) => r.partition === partition)
      .sort((a, b) => a.offset - b.offset);
    for (const record of inPartition) {
      const change = record.value;
      const reject = (
        reason?: string,
        stage: ExpectedRejection['stage'] = reason === undefined ? 'deserialize' : 'process',
      ): void => {
        rejected.push({
          partition,
          offset: record.offset,
          stage,
          ...(reason === undefined ? {} : { reason }),
        });
      };
      if (change === undefined) {
        reject();
        continue;
      }
      // A change's event time is its row's updated_at (the business time, the telemetry's clock).
      const eventTime = (change.after ?? change.before)?.updatedAt ?? change.commitTime;
      if (!isTime(eventTime)) {
        reject('invalid-timestamp', 'extract-timestamp');
        continue;
      }
      if (eventTime > now + options.maxFutureMs) {
        reject('future', 'extract-timestamp');
        continue;
      }
      const id = record.key ?? '';
      const row = change.after ?? change.before;
      if (!row || row.shipmentId !== record.key) {
        reject('malformed-change');
        continue;
      }
      const known = lifecycle.get(id);
      const redelivered =
        known !== undefined &&
        (change.source.commitLsn < known.commitLsn ||
          (change.source.commitLsn === known.commitLsn && change.source.lsn <= known.lsn));
      const stale =
        change.after !== null && known !== undefined && change.after.changeSeq <= known.changeSeq;
      if (redelivered || stale) {
        duplicates += 1;
        continue;
      }
      if (change.op === 'DELETE') {
        // The join emits nothing for a DELETE and the sinks keep the last state: so does the fold.
        lifecycle.delete(id);
        continue;
      }
      const after = change.after;
      if (!after) {
        reject('malformed-change');
        continue;
      }
      let ok: boolean;
      if (change.op === 'SNAPSHOT') ok = true;
      else if (change.op === 'INSERT') ok = !known && after.status === 'CREATED';
      else if (!known) ok = change.before ? allowed(change.before.status, after.status) : true;
      else ok = after.changeSeq === known.changeSeq + 1 && allowed(known.status, after.status);
      lifecycle.set(id, {
        status: ok ? after.status : (known?.status ?? after.status),
        changeSeq: after.changeSeq,
        commitLsn: change.source.commitLsn,
        lsn: change.source.lsn,
      });
      if (!ok) {
        reject('impossible-transition');
        continue;
      }
      const applied = { change, partition, offset: record.offset, timestamp: eventTime };
      last.set(id, applied);
      valid.set(id, [...(valid.get(id) ?? []), applied]);
    }
  }
  return { last, valid, rejected, duplicates };
}

// ---- the join: the expected Unified Shipment State and training examples ---------------------

const ON_TRIP: ReadonlySet<ShipmentStatus> = new Set([
  'PICKED_UP',
  'IN_TRANSIT',
  'OUT_FOR_DELIVERY',
  'EXCEPTION',
]);

/** Topics whose positions the states cite (sourceOffsets). */
export interface FoldTopics {
  shipmentsCdc: string;
  telemetryRaw: string;
}

export interface ShipmentExpectation {
  shipmentId: string;
  last: AppliedChange;
  /** The last state, every field. */
  state: UnifiedShipmentState;
}

export interface PipelineFold {
  telemetry: TelemetryFold;
  shipments: ShipmentsFold;
  expected: Map<string, ShipmentExpectation>;
  /** Shipments that must produce exactly one DeliveryExample, and what it must be. */
  examples: Map<string, DeliveryExample>;
  /** Delivered shipments that must produce none, and why. */
  skipped: Map<string, 'no-readings' | 'no-trip'>;
  /** Every delivered shipment (with or without an example). */
  delivered: string[];
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The last reading at or before `t`. */
function asOf(readings: readonly CleanReading[], t: number): CleanReading | undefined {
  let found: CleanReading | undefined;
  for (const r of readings) {
    if (r.reading.eventTime > t) break;
    found = r;
  }
  return found;
}

export function foldPipeline(
  changes: readonly InputRecord<ShipmentChange>[],
  telemetry: readonly InputRecord<VehicleTelemetry>[],
  topics: FoldTopics,
  options: FoldOptions = FOLD_DEFAULTS,
  now = Date.now(),
): PipelineFold {
  const t = foldTelemetry(telemetry, options, now);
  const s = foldShipments(changes, options, now);
  const expected = new Map<string, ShipmentExpectation>();
  const examples = new Map<string, DeliveryExample>();
  const skipped = new Map<string, 'no-readings' | 'no-trip'>();
  const delivered: string[] = [];
  for (const [shipmentId, history] of s.valid) {
    const last = history.at(-1) as AppliedChange;
    const row = last.change.after;
    if (!row) continue;
    // Owned by a vehicle's task from its first change with a vehicle on; the router states
    // the others from the change alone.
    const firstOwned = history.findIndex((c) => c.change.after?.vehicleId != null);
    const vehicles = new Set(
      history.map((c) => c.change.after?.vehicleId).filter((v): v is string => v != null),
    );
    if (vehicles.size > 1)
      throw new FoldScopeError('a shipment that changed vehicles', { shipmentId });
    const vehicleId = row.vehicleId;
    const readings = vehicleId === null ? [] : (t.clean.get(vehicleId) ?? []);
    const onTrip =
      firstOwned < 0
        ? undefined
        : history.slice(firstOwned).find((c) => ON_TRIP.has(c.change.after?.status ?? 'CREATED'));
    const pickedUpAt = onTrip?.timestamp ?? null;
    const terminal = row.status === 'DELIVERED' || row.status === 'CANCELLED';
    const shown =
      vehicleId === null ? undefined : terminal ? asOf(readings, last.timestamp) : readings.at(-1);
    let odometerAtPickupKm: number | null = null;
    if (pickedUpAt !== null) {
      const pickupReadings = vehicleId === null ? [] : readings;
      odometerAtPickupKm =
        (
          asOf(pickupReadings, pickedUpAt) ??
          pickupReadings.find((r) => r.reading.eventTime > pickedUpAt)
        )?.reading.odometerKm ?? null;
    }
    const base = joinedState(last, shown?.reading ?? null, odometerAtPickupKm, options);
    const positionTime = shown?.reading.eventTime ?? null;
    const sourceOffsets: Record<string, number> = {
      [`${topics.shipmentsCdc}-${last.partition}`]: last.offset,
    };
    if (shown) sourceOffsets[`${topics.telemetryRaw}-${shown.partition}`] = shown.offset;
    expected.set(shipmentId, {
      shipmentId,
      last,
      state: {
        ...base,
        version: row.changeSeq * options.versionStride + (positionTime ?? 0),
        sourceOffsets,
        stateUpdatedAt: Math.max(last.timestamp, positionTime ?? Number.NEGATIVE_INFINITY),
      },
    });
    if (row.status !== 'DELIVERED') continue;
    delivered.push(shipmentId);
    if (firstOwned < 0 || vehicleId === null || pickedUpAt === null) {
      skipped.set(shipmentId, 'no-trip');
      continue;
    }
    const example = deliveryExample(row, readings, pickedUpAt, odometerAtPickupKm, options);
    if (example) examples.set(shipmentId, example);
    else skipped.set(shipmentId, 'no-readings');
  }
  return { telemetry: t, shipments: s, expected, examples, skipped, delivered };
}

/**
 * The checkpoints of a trip: the first reading at or after pickup, then the first at least an
 * interval after the previous checkpoint; up to the arrival, labelled with minutes left.
 */
function deliveryExample(
  row: Shipment,
  readings: readonly CleanReading[],
  pickedUpAt: number,
  odometerAtPickupKm: number | null,
  options: FoldOptions,
): DeliveryExample | undefined {
  const arrival = row.updatedAt;
  const checkpoints: DeliveryCheckpoint[] = [];
  let lastAt = Number.NEGATIVE_INFINITY;
  for (const { reading: r } of readings) {
    if (r.eventTime < pickedUpAt || r.eventTime > arrival) continue;
    if (r.eventTime - lastAt < options.checkpointIntervalMs) continue;
    lastAt = r.eventTime;
    const elapsedMin = Math.max(0, (r.eventTime - pickedUpAt) / 60_000);
    const travelled = roundKm(
      odometerAtPickupKm === null ? 0 : Math.max(0, r.odometerKm - odometerAtPickupKm),
    );
    const when = new Date(r.eventTime);
    checkpoints.push({
      checkpointTime: r.eventTime,
      distanceRemainingKm: roundKm(roadKm(r, { lat: row.destinationLat, lon: row.destinationLon })),
      distanceTravelledKm: travelled,
      speedKmh: r.speed,
      avgSpeedKmh: elapsedMin > 0 ? round3(travelled / (elapsedMin / 60)) : 0,
      hourOfDay: when.getUTCHours(),
      dayOfWeek: when.getUTCDay(),
      elapsedMin: round3(elapsedMin),
      minutesToArrival: (arrival - r.eventTime) / 60_000,
    });
  }
  if (checkpoints.length === 0) return undefined;
  return {
    shipmentId: row.shipmentId,
    vehicleId: row.vehicleId ?? '',
    originId: row.originId,
    destinationId: row.destinationId,
    promisedAt: row.promisedAt,
    actualArrival: arrival,
    checkpoints,
  };
}

function roundKm(km: number): number {
  return Math.round(km * 1000) / 1000;
}

/** The state the join emits for `last` joined with `reading` (null: none), given the odometer at pickup. */
export function joinedState(
  last: AppliedChange,
  reading: VehicleTelemetry | null,
  odometerAtPickupKm: number | null,
  options: FoldOptions = FOLD_DEFAULTS,
): Omit<UnifiedShipmentState, 'version' | 'stateUpdatedAt' | 'sourceOffsets'> {
  const s = last.change.after;
  if (!s) throw new FoldScopeError('a last change without an after image', { offset: last.offset });
  const onTrip = ON_TRIP.has(s.status);
  const travelled =
    (onTrip || s.status === 'DELIVERED') && reading && odometerAtPickupKm !== null
      ? Math.max(0, reading.odometerKm - odometerAtPickupKm)
      : 0;
  const destination = { lat: s.destinationLat, lon: s.destinationLon };
  const remaining =
    s.status === 'DELIVERED'
      ? 0
      : onTrip && reading
        ? roadKm(reading, destination)
        : roadKm({ lat: s.originLat, lon: s.originLon }, destination);
  let prediction: { arrival: number; low: number; high: number } | null = null;
  if (onTrip && reading) {
    const e = options.eta;
    const speed =
      reading.speed < e.stoppedBelowKmh
        ? e.typicalSpeedKmh
        : Math.max(reading.speed, e.minSpeedKmh);
    // The join predicts from the distance rounded to metres, as its checkpoints store it.
    const remainingMs = (roundKm(remaining) / speed) * 3_600_000;
    const margin = remainingMs * e.intervalFraction + e.intervalFixedMs;
    const arrival = Math.round(reading.eventTime + remainingMs);
    prediction = {
      arrival,
      low: Math.max(reading.eventTime, Math.round(arrival - margin)),
      high: Math.round(arrival + margin),
    };
  }
  return {
    shipmentId: s.shipmentId,
    customerId: s.customerId,
    originId: s.originId,
    destinationId: s.destinationId,
    status: s.status,
    promisedAt: s.promisedAt,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    vehicleId: s.vehicleId,
    lat: reading?.lat ?? null,
    lon: reading?.lon ?? null,
    positionTime: reading?.eventTime ?? null,
    speedKmh: reading?.speed ?? null,
    fuelPct: reading?.fuelPct ?? null,
    engineTempC: reading?.engineTemp ?? null,
    distanceTravelledKm: roundKm(travelled),
    distanceRemainingKm: roundKm(remaining),
    predictedArrival: prediction?.arrival ?? null,
    predictionLow: prediction?.low ?? null,
    predictionHigh: prediction?.high ?? null,
    modelVersion: prediction ? options.eta.modelVersion : null,
    sourceLsn: last.change.source.snapshot ? 0 : last.change.source.commitLsn,
  };
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

/** Every field in which `actual` differs from `expected`, as `<id>.<field>: …` lines. */
export function diffFields<T extends object>(id: string, expected: T, actual: T): string[] {
  const diffs: string[] = [];
  const fields = new Set([...Object.keys(expected), ...Object.keys(actual)]) as Set<keyof T>;
  for (const field of fields) {
    const want = show(sortedIfRecord(expected[field]));
    const got = show(sortedIfRecord(actual[field]));
    if (want !== got) diffs.push(`${id}.${String(field)}: expected ${want}, got ${got}`);
  }
  return diffs;
}

function sortedIfRecord(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Every way `actual` differs from the fold's last state of its shipment; [] when equal. */
export function diffShipmentState(
  expectation: ShipmentExpectation,
  actual: UnifiedShipmentState,
): string[] {
  return diffFields(expectation.shipmentId, expectation.state, actual);
}
