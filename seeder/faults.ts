// Fault injection on the telemetry stream, each fault counted: duplicates, out-of-order and late
// delivery, GPS jumps, impossible sensor values, MPH/°F readings and malformed payloads.
import type { VehicleTelemetry } from '../schemas/types.ts';
import type { Random } from './random.ts';
import type { FaultKind, SeedStatistics } from './statistics.ts';
import { celsiusToFahrenheit, kmhToMph, round } from './units.ts';
import { destinationPoint } from './world.ts';

/** Probabilities per telemetry reading. */
export interface FaultRates {
  /** The same event (same eventId) is sent a second time. */
  duplicate: number;
  /** Held back 1–3 telemetry intervals, so later readings of the vehicle overtake it. */
  outOfOrder: number;
  /** Held back `lateDelayMs`: beyond any reasonable reordering grace period. */
  late: number;
  /** Position teleported 5–50 km away (the vehicle itself stays where it is). */
  gpsJump: number;
  /** Fuel 140 %, speed -5 or engine temperature 400 °C. */
  impossibleValue: number;
  /** Speed reported in miles per hour. */
  mph: number;
  /** Engine temperature reported in degrees Fahrenheit. */
  fahrenheit: number;
  /** An extra undecodable payload (random bytes, wrong magic byte, truncated record) via sendRaw. */
  malformed: number;
}

export interface FaultOptions extends FaultRates {
  lateDelayMs: number;
}

export const FAULT_DEFAULTS: FaultOptions = {
  duplicate: 0.01,
  outOfOrder: 0.01,
  late: 0.002,
  gpsJump: 0.002,
  impossibleValue: 0.002,
  mph: 0.02,
  fahrenheit: 0.02,
  malformed: 0.001,
  lateDelayMs: 10 * 60_000,
};

export const NO_FAULTS: FaultOptions = {
  duplicate: 0,
  outOfOrder: 0,
  late: 0,
  gpsJump: 0,
  impossibleValue: 0,
  mph: 0,
  fahrenheit: 0,
  malformed: 0,
  lateDelayMs: FAULT_DEFAULTS.lateDelayMs,
};

/** What to send and when (simulated time): the sender holds anything due later. */
export type Outbound =
  | { kind: 'event'; releaseAt: number; event: VehicleTelemetry }
  | { kind: 'raw'; releaseAt: number; key: string; value: Buffer }
  /** A prefix of the real encoding of `event`; needs the sink's encoder, so it is built at send time. */
  | { kind: 'truncated'; releaseAt: number; event: VehicleTelemetry; keepFraction: number };

export interface FaultContext {
  rng: Random;
  options: FaultOptions;
  telemetryIntervalMs: number;
  /** Whether a real encoder is available to make truncated records from. */
  canTruncate: boolean;
  statistics: SeedStatistics;
}

/** Confluent wire format: magic byte 0, then a 4-byte schema id, then the Avro body. */
const CONFLUENT_MAGIC = 0;

export function injectFaults(reading: VehicleTelemetry, ctx: FaultContext): Outbound[] {
  const { rng, options: o, statistics: stats } = ctx;
  const count = (kind: FaultKind): void => stats.fault(kind);
  const event: VehicleTelemetry = { ...reading };

  // Each fault draws from the fault stream every time, whether or not an earlier one fired, so
  // the counts are independent binomials and one rate never shifts the others.
  const mph = rng.bernoulli(o.mph);
  const fahrenheit = rng.bernoulli(o.fahrenheit);
  const gpsJump = rng.bernoulli(o.gpsJump);
  const impossible = rng.bernoulli(o.impossibleValue);
  const delayDraw = rng.next();
  const duplicate = rng.bernoulli(o.duplicate);
  const malformed = rng.bernoulli(o.malformed);

  if (mph) {
    event.speed = round(kmhToMph(event.speed), 1);
    event.speedUnit = 'MPH';
    count('unit-mph');
  }
  if (fahrenheit) {
    event.engineTemp = round(celsiusToFahrenheit(event.engineTemp), 1);
    event.temperatureUnit = 'FAHRENHEIT';
    count('unit-fahrenheit');
  }
  if (gpsJump) {
    const jumped = destinationPoint(event, rng.uniform(0, 360), rng.uniform(5, 50));
    event.lat = round(jumped.lat, 6);
    event.lon = round(jumped.lon, 6);
    count('gps-jump');
  }
  if (impossible) {
    const which = rng.int(0, 2);
    if (which === 0) event.fuelPct = 140;
    else if (which === 1) event.speed = -5;
    else event.engineTemp = event.temperatureUnit === 'FAHRENHEIT' ? celsiusToFahrenheit(400) : 400;
    count('impossible-value');
  }

  let releaseAt = reading.eventTime;
  if (delayDraw < o.late) {
    releaseAt += o.lateDelayMs;
    count('late');
  } else if (delayDraw < o.late + o.outOfOrder) {
    // Half an interval extra so the held event lands between two later readings, not on one.
    releaseAt += (rng.int(1, 3) + 0.5) * ctx.telemetryIntervalMs;
    count('out-of-order');
  }

  const out: Outbound[] = [{ kind: 'event', releaseAt, event }];
  if (duplicate) {
    out.push({
      kind: 'event',
      releaseAt: releaseAt + rng.int(0, 2) * ctx.telemetryIntervalMs,
      event,
    });
    count('duplicate');
  }
  if (malformed) out.push(malformedPayload(event, releaseAt, ctx));
  return out;
}

function malformedPayload(event: VehicleTelemetry, releaseAt: number, ctx: FaultContext): Outbound {
  const { rng } = ctx;
  const kinds: FaultKind[] = ['malformed-random-bytes', 'malformed-bad-magic'];
  if (ctx.canTruncate) kinds.push('malformed-truncated');
  const kind = rng.pick(kinds);
  ctx.statistics.fault(kind);
  const key = event.vehicleId;
  if (kind === 'malformed-truncated') {
    return { kind: 'truncated', releaseAt, event, keepFraction: rng.uniform(0.2, 0.8) };
  }
  if (kind === 'malformed-bad-magic') {
    // Looks framed (5-byte header, plausible body) but the magic byte is not 0.
    const value = Buffer.concat([Buffer.from([rng.int(1, 255)]), rng.bytes(4 + rng.int(20, 60))]);
    return { kind: 'raw', releaseAt, key, value };
  }
  const value = rng.bytes(rng.int(1, 64));
  // Random bytes that happen to start with the magic byte would look framed; keep them garbage.
  if (value[0] === CONFLUENT_MAGIC) value[0] = 0xff;
  return { kind: 'raw', releaseAt, key, value };
}

/** Cuts a real encoding short: the header survives, the Avro body ends mid-record. */
export function truncateEncoding(encoded: Buffer, keepFraction: number): Buffer {
  const header = 5;
  const body = encoded.length - header;
  const keep = Math.max(1, Math.min(body - 1, Math.floor(body * keepFraction)));
  return encoded.subarray(0, header + keep);
}
