// Unit conversions of raw telemetry: some devices report MPH and °F; the clean step normalizes
// them back to km/h and °C with the inverse functions.

export const KM_PER_MILE = 1.609344;

export function kmhToMph(kmh: number): number {
  return kmh / KM_PER_MILE;
}

export function mphToKmh(mph: number): number {
  return mph * KM_PER_MILE;
}

export function celsiusToFahrenheit(celsius: number): number {
  return (celsius * 9) / 5 + 32;
}

export function fahrenheitToCelsius(fahrenheit: number): number {
  return ((fahrenheit - 32) * 5) / 9;
}

/** Rounds to `decimals` places; readings carry sensor precision, not float noise. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
