// Cleans telemetry.raw into telemetry.clean (key = vehicle id): range checks, km/h and °C,
// dedupe by event id, per-vehicle event-time order within a grace period, GPS jumps dropped.
// Every clean reading names the raw record it came from (lineage headers).
import type { VehicleTelemetry } from '../../schemas/types.ts';
import { haversineKm } from '../geo.ts';
import { lineageHeaders, type RecordPosition } from '../lineage.ts';
import {
  RecordRejectedError,
  type Processor,
  type ProcessorContext,
} from '../runtime/processor.ts';
import type { StreamRecord } from '../runtime/record.ts';
import type { KeyValueStore } from '../runtime/state-store.ts';
import { round, toCelsius, toKmh } from './units.ts';

export interface Range {
  min: number;
  max: number;
}

/** Physically possible values, after normalization to km/h and °C. */
export interface TelemetryLimits {
  lat: Range;
  lon: Range;
  speedKmh: Range;
  fuelPct: Range;
  engineTempC: Range;
  headingDeg: Range;
}

export interface CleanTelemetryOptions {
  /** How long an event id is remembered (event time) to drop redelivered copies. */
  dedupeWindowMs: number;
  /**
   * How far behind the newest event time (of this task) a reading may arrive and still be
   * put in order: readings are held this long before they are released.
   */
  graceMs: number;
  /**
   * When the task has had no input for this long (wall clock), it releases every reading it
   * holds: a quiet partition (a bounded input's end, a fleet that stopped) would otherwise keep
   * its last `graceMs` of readings. A reading that arrives after that, older than one released,
   * is late.
   */
  quietAfterMs: number;
  /** A position implying a faster trip from its neighbour reading is a GPS jump. */
  maxImpliedSpeedKmh: number;
  /**
   * After this many consecutive readings of a vehicle fail the jump check, the reading they
   * were judged against is taken to be the bad one (say, a jumped first reading) and the
   * vehicle is taken to be where they put it; otherwise one bad reference blocks it for good.
   */
  relocateAfterJumps: number;
  limits: TelemetryLimits;
  /** Told about every dropped duplicate (they are expected, not errors): wire to a counter. */
  onDuplicate?: (event: VehicleTelemetry) => void;
}

export const CLEAN_TELEMETRY_DEFAULTS: CleanTelemetryOptions = {
  // The simulator resends duplicates up to two 10 s intervals later; ten minutes is generous.
  dedupeWindowMs: 10 * 60_000,
  // Out-of-order readings arrive up to 3.5 intervals (35 s) late; "late" ones 10 minutes.
  graceMs: 60_000,
  quietAfterMs: 10_000,
  maxImpliedSpeedKmh: 300,
  relocateAfterJumps: 3,
  limits: {
    lat: { min: -90, max: 90 },
    lon: { min: -180, max: 180 },
    speedKmh: { min: 0, max: 250 },
    fuelPct: { min: 0, max: 100 },
    engineTempC: { min: -40, max: 150 },
    headingDeg: { min: 0, max: 360 },
  },
};

/** Store names; the topology declares stores with these names. */
export const CLEAN_TELEMETRY_STORES = {
  /** event id → event time of every reading accepted within the dedupe window (time-indexed). */
  seen: 'telemetry-seen-events',
  /** vehicle id → last released fix and readings held for reordering (indexed by the oldest held). */
  vehicles: 'telemetry-vehicles',
  /** `watermark` → newest accepted event time of the task. */
  watermark: 'telemetry-watermark',
} as const;

export interface Fix {
  eventTime: number;
  lat: number;
  lon: number;
}

export interface VehicleReorderState {
  lastReleased: Fix | null;
  /** Held readings, in event-time order. */
  pending: VehicleTelemetry[];
  /** Where each held reading came from (same order as `pending`). */
  sources?: (RecordPosition | null)[];
  /** Readings rejected as GPS jumps since the last accepted one. */
  jumpStreak: number;
}

/** The time index of the vehicles store: when its oldest held reading was read. */
export function oldestHeldTime(state: VehicleReorderState): number | undefined {
  return state.pending[0]?.eventTime;
}

/** The time index of the seen store: the event time of the reading. */
export function seenAt(eventTime: number): number {
  return eventTime;
}

/** How often the cleaner looks whether its task went quiet (wall clock). */
const QUIET_CHECK_INTERVAL_MS = 1_000;

const WATERMARK_KEY = 'watermark';

/** Event time (not arrival or broker time) orders readings; see CleanTelemetryOptions.graceMs. */
export class CleanTelemetryProcessor implements Processor<
  string,
  VehicleTelemetry,
  string,
  VehicleTelemetry
> {
  private readonly options: CleanTelemetryOptions;
  private context!: ProcessorContext<string, VehicleTelemetry>;
  private seen!: KeyValueStore<string, number>;
  private vehicles!: KeyValueStore<string, VehicleReorderState>;
  private watermarkStore!: KeyValueStore<string, number>;
  /** Wall clock of the last input (not state: a restart starts counting afresh). */
  private lastInputAt = 0;
  private quietReleased = false;

  constructor(options: Partial<CleanTelemetryOptions> = {}) {
    this.options = { ...CLEAN_TELEMETRY_DEFAULTS, ...options };
  }

  init(context: ProcessorContext<string, VehicleTelemetry>): void {
    this.context = context;
    this.seen = context.getStateStore(CLEAN_TELEMETRY_STORES.seen);
    this.vehicles = context.getStateStore(CLEAN_TELEMETRY_STORES.vehicles);
    this.watermarkStore = context.getStateStore(CLEAN_TELEMETRY_STORES.watermark);
    this.lastInputAt = context.currentSystemTimeMs();
    context.schedule(QUIET_CHECK_INTERVAL_MS, 'wall-clock', (now) => this.onWallClock(now));
  }

  process(record: StreamRecord<string, VehicleTelemetry>): void {
    this.lastInputAt = this.context.currentSystemTimeMs();
    this.quietReleased = false;
    const raw = record.value;
    if (record.key !== raw.vehicleId) {
      throw new RecordRejectedError(
        'key-mismatch',
        `event ${raw.eventId} of vehicle ${raw.vehicleId} was keyed "${record.key}"`,
        { eventId: raw.eventId, key: record.key, vehicleId: raw.vehicleId },
      );
    }
    const event = normalize(raw);
    this.validate(event, raw);
    if (this.seen.get(event.eventId) !== undefined) {
      this.options.onDuplicate?.(event);
      return;
    }
    const state = this.loadVehicle(event.vehicleId);
    const watermark = this.watermark();
    // Released readings are final: one older than the last released cannot be put in order
    // any more. Release waits for the grace period, so such a reading is more than
    // `graceMs` behind the task's event time.
    if (state.lastReleased && event.eventTime < state.lastReleased.eventTime) {
      throw new RecordRejectedError(
        'late',
        `${event.vehicleId} event ${event.eventId} at ${iso(event.eventTime)} arrived ${watermark - event.eventTime} ms behind event time ${iso(watermark)}, after ${iso(state.lastReleased.eventTime)} was released (grace ${this.options.graceMs} ms)`,
        {
          eventId: event.eventId,
          vehicleId: event.vehicleId,
          eventTime: event.eventTime,
          watermark,
          graceMs: this.options.graceMs,
        },
      );
    }
    this.rejectGpsJump(event, state);

    this.seen.put(event.eventId, event.eventTime);
    state.jumpStreak = 0;
    const meta = this.context.recordMetadata;
    const source: RecordPosition | null = meta
      ? { topic: meta.topic, partition: meta.partition, offset: Number(meta.offset) }
      : null;
    const at = insertionIndex(state.pending, event);
    state.pending = [...state.pending.slice(0, at), event, ...state.pending.slice(at)];
    const sources = state.sources ?? state.pending.map(() => null);
    state.sources = [...sources.slice(0, at), source, ...sources.slice(at)];
    this.vehicles.put(event.vehicleId, state);
    const newWatermark = Math.max(watermark, event.eventTime);
    if (newWatermark !== watermark) this.watermarkStore.put(WATERMARK_KEY, newWatermark);
    this.releaseDue(newWatermark);
    this.forgetSeenBefore(newWatermark - this.options.dedupeWindowMs);
  }

  /**
   * A copy: stores hand out the objects they hold, and changing those in place would bypass
   * the pending layer, so an aborted transaction could not roll the change back.
   */
  private loadVehicle(vehicleId: string): VehicleReorderState {
    const stored = this.vehicles.get(vehicleId);
    return stored
      ? {
          lastReleased: stored.lastReleased,
          pending: [...stored.pending],
          sources: stored.sources ? [...stored.sources] : stored.pending.map(() => null),
          jumpStreak: stored.jumpStreak,
        }
      : { lastReleased: null, pending: [], sources: [], jumpStreak: 0 };
  }

  private watermark(): number {
    return this.watermarkStore.get(WATERMARK_KEY) ?? Number.NEGATIVE_INFINITY;
  }

  private validate(event: VehicleTelemetry, raw: VehicleTelemetry): void {
    const l = this.options.limits;
    const checks: [string, number, Range, string][] = [
      ['lat', event.lat, l.lat, '°'],
      ['lon', event.lon, l.lon, '°'],
      ['speed', event.speed, l.speedKmh, ' km/h'],
      ['fuel', event.fuelPct, l.fuelPct, ' %'],
      ['engine temperature', event.engineTemp, l.engineTempC, ' °C'],
      ['heading', event.headingDeg, l.headingDeg, '°'],
      ['odometer', event.odometerKm, { min: 0, max: Number.MAX_VALUE }, ' km'],
      ['event time', event.eventTime, { min: 0, max: Number.MAX_SAFE_INTEGER }, ' ms'],
    ];
    const problems = checks
      .filter(
        ([, value, range]) => !(Number.isFinite(value) && value >= range.min && value <= range.max),
      )
      .map(
        ([name, value, range, unit]) =>
          `${name} ${value}${unit} outside [${range.min}, ${range.max}]`,
      );
    if (problems.length === 0) return;
    throw new RecordRejectedError(
      'impossible-value',
      `${event.vehicleId} event ${event.eventId}: ${problems.join('; ')}`,
      {
        eventId: event.eventId,
        vehicleId: event.vehicleId,
        problems,
        speedUnit: raw.speedUnit,
        temperatureUnit: raw.temperatureUnit,
      },
    );
  }

  /** Compares with the reading nearest before it in event time (or, failing that, after it). */
  private rejectGpsJump(event: VehicleTelemetry, state: VehicleReorderState): void {
    const fixes: Fix[] = [...(state.lastReleased ? [state.lastReleased] : []), ...state.pending];
    const before = fixes.filter((f) => f.eventTime <= event.eventTime).at(-1);
    const neighbour = before ?? fixes.find((f) => f.eventTime > event.eventTime);
    if (!neighbour) return;
    const km = haversineKm(neighbour, event);
    // Two readings in the same second: judge them as one second apart, not as infinite speed.
    const hours = Math.max(Math.abs(event.eventTime - neighbour.eventTime), 1_000) / 3_600_000;
    const impliedKmh = km / hours;
    if (impliedKmh <= this.options.maxImpliedSpeedKmh) return;
    if (state.jumpStreak + 1 >= this.options.relocateAfterJumps) return;
    // Kept although the record is dead-lettered: the streak is what lets the vehicle recover.
    this.vehicles.put(event.vehicleId, { ...state, jumpStreak: state.jumpStreak + 1 });
    throw new RecordRejectedError(
      'gps-jump',
      `${event.vehicleId} event ${event.eventId}: ${round(km, 2)} km from the reading at ${iso(neighbour.eventTime)} implies ${Math.round(impliedKmh)} km/h (max ${this.options.maxImpliedSpeedKmh})`,
      {
        eventId: event.eventId,
        vehicleId: event.vehicleId,
        km,
        impliedKmh,
        neighbourTime: neighbour.eventTime,
      },
    );
  }

  /**
   * Releases, vehicle by vehicle (oldest held reading first), every held reading `graceMs`
   * behind the watermark: found through the store's time index, so this runs on every record
   * without reading vehicles that have nothing due. The output depends only on the input's
   * order, never on when a sweep happened to run.
   */
  private releaseDue(watermark: number): void {
    for (const vehicleId of this.vehicles.keysBefore(watermark - this.options.graceMs + 1)) {
      const state = this.loadVehicle(vehicleId);
      if (this.release(vehicleId, state, watermark)) this.vehicles.put(vehicleId, state);
    }
  }

  /** Forwards the vehicle's held readings up to `upTo` (− grace), in order. */
  private release(vehicleId: string, state: VehicleReorderState, upTo: number): boolean {
    let released = 0;
    for (const [i, event] of state.pending.entries()) {
      if (event.eventTime + this.options.graceMs > upTo) break;
      const source = state.sources?.[i];
      this.context.forward({
        key: vehicleId,
        value: event,
        timestamp: event.eventTime,
        ...(source ? { headers: lineageHeaders(source) } : {}),
      });
      state.lastReleased = { eventTime: event.eventTime, lat: event.lat, lon: event.lon };
      released += 1;
    }
    if (released === 0) return false;
    state.pending = state.pending.slice(released);
    state.sources = (state.sources ?? []).slice(released);
    return true;
  }

  private forgetSeenBefore(before: number): void {
    for (const eventId of this.seen.keysBefore(before)) this.seen.delete(eventId);
  }

  /** Quiet for `quietAfterMs`: releases everything held, once per quiet spell. */
  private onWallClock(now: number): void {
    if (this.quietReleased || now - this.lastInputAt < this.options.quietAfterMs) return;
    this.quietReleased = true;
    for (const vehicleId of this.vehicles.keysBefore(Number.POSITIVE_INFINITY)) {
      const state = this.loadVehicle(vehicleId);
      if (this.release(vehicleId, state, Number.POSITIVE_INFINITY))
        this.vehicles.put(vehicleId, state);
    }
  }
}

/** km/h and °C, whatever the device sent. */
export function normalize(event: VehicleTelemetry): VehicleTelemetry {
  return {
    ...event,
    speed: event.speedUnit === 'KMH' ? event.speed : round(toKmh(event.speed, event.speedUnit), 2),
    speedUnit: 'KMH',
    engineTemp:
      event.temperatureUnit === 'CELSIUS'
        ? event.engineTemp
        : round(toCelsius(event.engineTemp, event.temperatureUnit), 2),
    temperatureUnit: 'CELSIUS',
  };
}

/** Where a reading goes among held ones; equal event times keep arrival order. */
function insertionIndex(pending: readonly VehicleTelemetry[], event: VehicleTelemetry): number {
  const at = pending.findIndex((p) => p.eventTime > event.eventTime);
  return at === -1 ? pending.length : at;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
