// The clean step undoes exactly what the simulator's faults do to units.
import { celsiusToFahrenheit, kmhToMph } from '../../seeder/units.ts';
import { round, toCelsius, toKmh } from './units.ts';

describe('unit normalization', () => {
  it('converts MPH and °F back to km/h and °C, and leaves KMH and CELSIUS alone', () => {
    expect(toKmh(kmhToMph(88), 'MPH')).toBeCloseTo(88, 9);
    expect(toKmh(60, 'MPH')).toBeCloseTo(96.56064, 9);
    expect(toKmh(60, 'KMH')).toBe(60);
    expect(toCelsius(celsiusToFahrenheit(91.5), 'FAHRENHEIT')).toBeCloseTo(91.5, 9);
    expect(toCelsius(212, 'FAHRENHEIT')).toBe(100);
    expect(toCelsius(-40, 'FAHRENHEIT')).toBe(-40);
    expect(toCelsius(90, 'CELSIUS')).toBe(90);
  });

  it('rounds to sensor precision', () => {
    expect(round(96.560_64, 2)).toBe(96.56);
    expect(round(-0.005_1, 2)).toBe(-0.01);
  });
});
