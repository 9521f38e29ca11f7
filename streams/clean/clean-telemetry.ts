// Cleans telemetry.raw into telemetry.clean (key = vehicle id): range checks, km/h and °C,
// dedupe by event id, per-vehicle event-time order within a grace period, GPS jumps dropped.
import type { VehicleTelemetry } from '../../schemas/types.ts';
import { haversineKm } from '../geo.ts';
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
  /** Stream-time period of the sweep that releases due readings of every vehicle and forgets old event ids. */
  sweepIntervalMs: number;
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
  sweepIntervalMs: 5_000,
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
  /** event id → event time of every reading accepted within the dedupe window. */
  seen: 'telemetry-seen-events',
  /** vehicle id → last released fix and readings held for reordering. */
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
  /** Readings rejected as GPS jumps since the last accepted one. */
  jumpStreak: number;
}

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

  constructor(options: Partial<CleanTelemetryOptions> = {}) {
    this.options = { ...CLEAN_TELEMETRY_DEFAULTS, ...options };
  }

  init(context: ProcessorContext<string, VehicleTelemetry>): void {
    this.context = context;
    this.seen = context.getStateStore(CLEAN_TELEMETRY_STORES.seen);
    this.vehicles = context.getStateStore(CLEAN_TELEMETRY_STORES.vehicles);
    this.watermarkStore = context.getStateStore(CLEAN_TELEMETRY_STORES.watermark);
    context.schedule(this.options.sweepIntervalMs, 'stream-time', () => this.sweep());
  }

  process(record: StreamRecord<string, VehicleTelemetry>): void {
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
    state.pending = insertByEventTime(state.pending, event);
    const newWatermark = Math.max(watermark, event.eventTime);
    if (newWatermark !== watermark) this.watermarkStore.put(WATERMARK_KEY, newWatermark);
    this.release(event.vehicleId, state, newWatermark);
    this.vehicles.put(event.vehicleId, state);
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
          jumpStreak: stored.jumpStreak,
        }
      : { lastReleased: null, pending: [], jumpStreak: 0 };
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

  /** Forwards the vehicle's held readings that are `graceMs` behind the watermark, in order. */
  private release(vehicleId: string, state: VehicleReorderState, watermark: number): boolean {
    let released = 0;
    for (const event of state.pending) {
      if (event.eventTime + this.options.graceMs > watermark) break;
      this.context.forward({ key: vehicleId, value: event, timestamp: event.eventTime });
      state.lastReleased = { eventTime: event.eventTime, lat: event.lat, lon: event.lon };
      released += 1;
    }
    if (released > 0) state.pending = state.pending.slice(released);
    return released > 0;
  }

  /** Releases what became due for vehicles that sent nothing lately, and forgets old event ids. */
  private sweep(): void {
    const watermark = this.watermark();
    for (const [vehicleId] of this.vehicles.all()) {
      const state = this.loadVehicle(vehicleId);
      if (this.release(vehicleId, state, watermark)) this.vehicles.put(vehicleId, state);
    }
    const forgetBefore = watermark - this.options.dedupeWindowMs;
    for (const [eventId, eventTime] of this.seen.all()) {
      if (eventTime < forgetBefore) this.seen.delete(eventId);
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

function insertByEventTime(
  pending: VehicleTelemetry[],
  event: VehicleTelemetry,
): VehicleTelemetry[] {
  // Equal event times keep arrival order.
  const at = pending.findIndex((p) => p.eventTime > event.eventTime);
  return at === -1 ? [...pending, event] : [...pending.slice(0, at), event, ...pending.slice(at)];
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
