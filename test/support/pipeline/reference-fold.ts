// The offline fold: a pure reference of what the stream pipeline must leave behind (telemetry.clean,
// the DLQs, the Unified Shipment State in Redis and PostgreSQL), computed from the input topics
// alone (shipments.cdc and telemetry.raw as read back). It mirrors the rules documented in
// streams/clean/README.md and streams/join/README.md but shares no code with streams/, so a bug
// on either side shows up as a difference.
//
// What it models exactly: undecodable records (→ DLQ); telemetry key checks, unit normalization,
// range checks, dedupe by event id, per-vehicle event-time reordering within the grace period
// (one watermark per input partition), lateness and GPS jumps; the shipment lifecycle (redeliveries,
// changeSeq gaps, forbidden transitions); the join's fields for the last valid change of every
// shipment.
//
// What it refuses (FoldScopeError), because the result would depend on when the cleaner's
// stream-time sweep ran, which no input determines: a reading arriving more than the grace
// period behind its partition's watermark, a duplicate older than the dedupe window, and a
// reading left held at the end that a sweep could still release. The simulator's duplicate,
// reorder (1.5–3.5 intervals < grace), unit and malformed faults stay inside this scope.
//
// What the inputs cannot determine (see ShipmentExpectation): the join's two inputs
// (telemetry.clean and the shipments repartition) are consumed in whatever order the fetches
// return, so a terminal shipment's last state carries whichever reading its task had processed,
// the odometer at pickup is whichever reading was latest then, and an active shipment's version
// counts the readings processed after its last change. For those fields the fold states the set
// of admissible values, and `diffShipmentState` checks the actual value is one of them.
import type {
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
  versionStride: 1_000_000,
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

export interface TelemetryFold {
  /** Per vehicle, what telemetry.clean must hold, in order. */
  clean: Map<string, VehicleTelemetry[]>;
  /** Readings still held for reordering at the end (never released from a bounded input). */
  held: Map<string, VehicleTelemetry[]>;
  rejected: ExpectedRejection[];
  duplicates: number;
}

interface VehicleFold {
  lastReleased: VehicleTelemetry | null;
  pending: VehicleTelemetry[];
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

/** Folds telemetry.raw, partition by partition in offset order (each partition is one task). */
export function foldTelemetry(
  records: readonly InputRecord<VehicleTelemetry>[],
  options: FoldOptions = FOLD_DEFAULTS,
): TelemetryFold {
  const clean = new Map<string, VehicleTelemetry[]>();
  const rejected: ExpectedRejection[] = [];
  const held = new Map<string, VehicleTelemetry[]>();
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
      if (record.key !== raw.vehicleId) {
        reject(record, 'key-mismatch');
        continue;
      }
      const event = normalizeReading(raw);
      if (!withinLimits(event, options)) {
        reject(record, 'impossible-value');
        continue;
      }
      const seenAt = seen.get(event.eventId);
      if (seenAt !== undefined) {
        if (seenAt < watermark - options.dedupeWindowMs)
          throw new FoldScopeError('a duplicate older than the dedupe window', {
            eventId: event.eventId,
            partition,
            offset: record.offset,
          });
        duplicates += 1;
        continue;
      }
      const vehicle = vehicles.get(event.vehicleId) ?? {
        lastReleased: null,
        pending: [],
        jumpStreak: 0,
      };
      vehicles.set(event.vehicleId, vehicle);
      if (vehicle.lastReleased && event.eventTime < vehicle.lastReleased.eventTime) {
        reject(record, 'late');
        continue;
      }
      // A sweep may have released any held reading up to (watermark − grace): a reading older
      // than that may or may not be late, depending on when the sweep ran.
      if (event.eventTime + options.graceMs <= watermark)
        throw new FoldScopeError('a reading more than the grace period behind the watermark', {
          eventId: event.eventId,
          partition,
          offset: record.offset,
          behindMs: watermark - event.eventTime,
        });
      if (isGpsJump(event, vehicle, options)) {
        vehicle.jumpStreak += 1;
        reject(record, 'gps-jump');
        continue;
      }
      seen.set(event.eventId, event.eventTime);
      vehicle.jumpStreak = 0;
      const at = vehicle.pending.findIndex((p) => p.eventTime > event.eventTime);
      if (at === -1) vehicle.pending.push(event);
      else vehicle.pending.splice(at, 0, event);
      watermark = Math.max(watermark, event.eventTime);
      const out = clean.get(event.vehicleId) ?? [];
      clean.set(event.vehicleId, out);
      while (vehicle.pending[0] && vehicle.pending[0].eventTime + options.graceMs <= watermark) {
        const next = vehicle.pending.shift() as VehicleTelemetry;
        out.push(next);
        vehicle.lastReleased = next;
      }
    }
    for (const [vehicleId, vehicle] of vehicles) {
      if (vehicle.pending.some((p) => p.eventTime + options.graceMs <= watermark))
        throw new FoldScopeError('a held reading a sweep could still release', {
          vehicleId,
          partition,
        });
      if (vehicle.pending.length > 0) held.set(vehicleId, vehicle.pending);
    }
  }
  return { clean, held, rejected, duplicates };
}

/** Compared with its neighbour in event time (before it, else after it); see the cleaner's README. */
function isGpsJump(event: VehicleTelemetry, vehicle: VehicleFold, options: FoldOptions): boolean {
  const fixes = [...(vehicle.lastReleased ? [vehicle.lastReleased] : []), ...vehicle.pending];
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

export function foldShipments(records: readonly InputRecord<ShipmentChange>[]): ShipmentsFold {
  const last = new Map<string, AppliedChange>();
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
      let valid: boolean;
      if (change.op === 'SNAPSHOT') valid = true;
      else if (change.op === 'INSERT') valid = !known && after.status === 'CREATED';
      else if (!known) valid = change.before ? allowed(change.before.status, after.status) : true;
      else valid = after.changeSeq === known.changeSeq + 1 && allowed(known.status, after.status);
      lifecycle.set(id, {
        status: valid ? after.status : (known?.status ?? after.status),
        changeSeq: after.changeSeq,
        commitLsn: change.source.commitLsn,
        lsn: change.source.lsn,
      });
      if (!valid) {
        reject('impossible-transition');
        continue;
      }
      last.set(id, { change, partition, offset: record.offset, timestamp: eventTime });
    }
  }
  return { last, rejected, duplicates };
}

// ---- the join: the expected Unified Shipment State -------------------------------------------

const ON_TRIP: ReadonlySet<ShipmentStatus> = new Set([
  'PICKED_UP',
  'IN_TRANSIT',
  'OUT_FOR_DELIVERY',
  'EXCEPTION',
]);

export interface ShipmentExpectation {
  shipmentId: string;
  last: AppliedChange;
  /** The clean readings of its vehicle, in order ([] when it has none). */
  readings: VehicleTelemetry[];
  /**
   * Which reading the final state carries: `none`, exactly the vehicle's `last` one (an active
   * shipment: its task joins every reading and the change against the latest), or `any` of them
   * or none (a terminal one: emitted once, with whatever reading its task had processed).
   */
  reading: 'none' | 'last' | 'any';
  /** Terminal or unassigned: its last state was emitted by the change itself. */
  emittedByChange: boolean;
}

export interface PipelineFold {
  telemetry: TelemetryFold;
  shipments: ShipmentsFold;
  expected: Map<string, ShipmentExpectation>;
  /** Shipments that must produce exactly one DeliveryExample. */
  delivered: string[];
}

export function foldPipeline(
  changes: readonly InputRecord<ShipmentChange>[],
  telemetry: readonly InputRecord<VehicleTelemetry>[],
  options: FoldOptions = FOLD_DEFAULTS,
): PipelineFold {
  const t = foldTelemetry(telemetry, options);
  const s = foldShipments(changes);
  const expected = new Map<string, ShipmentExpectation>();
  const delivered: string[] = [];
  for (const [shipmentId, last] of s.last) {
    const after = last.change.after;
    if (!after) continue;
    const terminal = after.status === 'DELIVERED' || after.status === 'CANCELLED';
    const vehicleId = after.vehicleId;
    expected.set(shipmentId, {
      shipmentId,
      last,
      readings: vehicleId === null ? [] : (t.clean.get(vehicleId) ?? []),
      reading: vehicleId === null ? 'none' : terminal ? 'any' : 'last',
      emittedByChange: terminal || vehicleId === null,
    });
    if (after.status === 'DELIVERED' && vehicleId !== null) delivered.push(shipmentId);
  }
  return { telemetry: t, shipments: s, expected, delivered };
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
    const remainingMs = (remaining / speed) * 3_600_000;
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

export interface DiffContext {
  /** Topic names the state's sourceOffsets are keyed by. */
  shipmentsCdcTopic: string;
  telemetryCleanTopic: string;
  /** Where each clean reading landed in telemetry.clean (event id → partition, offset), if known. */
  cleanPositions?: ReadonlyMap<string, { partition: number; offset: number }>;
  options?: FoldOptions;
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * Every way `actual` differs from what the fold admits, as `<shipment>.<field>: …` lines; []
 * when it is one of the admissible states.
 */
export function diffShipmentState(
  expectation: ShipmentExpectation,
  actual: UnifiedShipmentState,
  context: DiffContext,
): string[] {
  const options = context.options ?? FOLD_DEFAULTS;
  const id = expectation.shipmentId;
  const diffs: string[] = [];
  const { readings, last } = expectation;
  const after = last.change.after;
  if (!after) return [`${id}: the fold has no after image`];

  // Which reading does the state carry, and may it?
  let reading: VehicleTelemetry | null = null;
  if (actual.positionTime !== null) {
    reading = readings.find((r) => r.eventTime === actual.positionTime) ?? null;
    if (!reading) {
      diffs.push(
        `${id}.positionTime: ${actual.positionTime} is not the time of any clean reading of ${after.vehicleId ?? '(no vehicle)'}`,
      );
      return diffs;
    }
  }
  const lastReading = readings.at(-1) ?? null;
  if (expectation.reading === 'none' && reading !== null)
    diffs.push(`${id}.positionTime: expected no reading, got ${reading.eventTime}`);
  if (expectation.reading === 'last' && reading?.eventId !== lastReading?.eventId)
    diffs.push(
      `${id}.positionTime: expected the vehicle's last clean reading ${show(lastReading?.eventTime ?? null)}, got ${show(reading?.eventTime ?? null)}`,
    );

  // Every field but the order-dependent ones, from the change and that reading.
  const odometers = [null, ...readings.map((r) => r.odometerKm)];
  const candidates = odometers.map((odo) => joinedState(last, reading, odo, options));
  const travelledAdmissible = [...new Set(candidates.map((c) => c.distanceTravelledKm))];
  const model = candidates[0] as ReturnType<typeof joinedState>;
  for (const [field, want] of Object.entries(model) as [keyof typeof model, unknown][]) {
    if (field === 'distanceTravelledKm') continue;
    const got = actual[field];
    if (show(got) !== show(want))
      diffs.push(`${id}.${field}: expected ${show(want)}, got ${show(got)}`);
  }
  if (!travelledAdmissible.includes(actual.distanceTravelledKm))
    diffs.push(
      `${id}.distanceTravelledKm: ${actual.distanceTravelledKm} is not the reading's odometer minus any reading's (admissible: ${show(travelledAdmissible.slice(0, 5))}${travelledAdmissible.length > 5 ? '…' : ''})`,
    );

  // Version and stateUpdatedAt: from the change, or (active shipments) from a later reading.
  const base = after.changeSeq * options.versionStride;
  const byChange = actual.version === base && actual.stateUpdatedAt === last.timestamp;
  const byReading =
    !expectation.emittedByChange &&
    lastReading !== null &&
    actual.version > base &&
    actual.version <= base + readings.length &&
    actual.stateUpdatedAt === lastReading.eventTime;
  if (!byChange && !byReading)
    diffs.push(
      expectation.emittedByChange
        ? `${id}.version/stateUpdatedAt: expected ${base}/${last.timestamp} (emitted by its last change), got ${actual.version}/${actual.stateUpdatedAt}`
        : `${id}.version/stateUpdatedAt: expected ${base}/${last.timestamp} or (${base}, ${base + readings.length}]/${lastReading?.eventTime ?? '-'}, got ${actual.version}/${actual.stateUpdatedAt}`,
    );

  // Source offsets: the change's position, plus the reading's in telemetry.clean.
  const cdcKey = `${context.shipmentsCdcTopic}-${last.partition}`;
  const wantOffsets: Record<string, number> = { [cdcKey]: last.offset };
  if (reading) {
    const at = context.cleanPositions?.get(reading.eventId);
    if (at) wantOffsets[`${context.telemetryCleanTopic}-${at.partition}`] = at.offset;
  }
  const gotOffsets = actual.sourceOffsets;
  if (reading && !context.cleanPositions?.get(reading.eventId)) {
    // Position unknown to the caller: only the shape can be checked.
    const cleanKeys = Object.keys(gotOffsets).filter((k) =>
      k.startsWith(`${context.telemetryCleanTopic}-`),
    );
    if (cleanKeys.length !== 1 || gotOffsets[cdcKey] !== last.offset)
      diffs.push(
        `${id}.sourceOffsets: expected ${show(wantOffsets)} plus one telemetry.clean entry, got ${show(gotOffsets)}`,
      );
  } else if (show(sortKeys(gotOffsets)) !== show(sortKeys(wantOffsets))) {
    diffs.push(`${id}.sourceOffsets: expected ${show(wantOffsets)}, got ${show(gotOffsets)}`);
  }
  return diffs;
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
