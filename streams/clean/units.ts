// Unit normalization of raw telemetry: devices may report MPH and °F; telemetry.clean is
// always km/h and °C. The inverse of seeder/units.ts (units.test.ts checks the round trip).
import type { SpeedUnit, TemperatureUnit } from '../../schemas/types.ts';

export const KM_PER_MILE = 1.609344;

export function toKmh(speed: number, unit: SpeedUnit): number {
  return unit === 'MPH' ? speed * KM_PER_MILE : speed;
}

export function toCelsius(temperature: number, unit: TemperatureUnit): number {
  return unit === 'FAHRENHEIT' ? ((temperature - 32) * 5) / 9 : temperature;
}

/** Rounds to `decimals` places: converted readings keep sensor precision, not float noise. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
