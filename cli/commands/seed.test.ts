// What a `continuum seed` command line runs: live runs start in the past, never ahead of now.
import { FAULT_DEFAULTS } from '../../seeder/faults.ts';
import { SIMULATION_DEFAULTS } from '../../seeder/simulation.ts';
import { seedRunFromOptions, seedUsageProblem, type SeedCliOptions } from './seed.ts';

const NOW = Date.parse('2026-12-05T12:00:00.250Z');
const HOUR = 3_600_000;
const base: SeedCliOptions = {
  vehicles: 20,
  customers: SIMULATION_DEFAULTS.customers,
  telemetryInterval: 30_000,
  cancelRate: SIMULATION_DEFAULTS.cancelRate,
  exceptionRate: SIMULATION_DEFAULTS.exceptionRate,
  faults: true,
  faultDuplicate: FAULT_DEFAULTS.duplicate,
  faultOutOfOrder: FAULT_DEFAULTS.outOfOrder,
  faultLate: FAULT_DEFAULTS.late,
  lateDelay: FAULT_DEFAULTS.lateDelayMs,
  faultGpsJump: FAULT_DEFAULTS.gpsJump,
  faultImpossible: FAULT_DEFAULTS.impossibleValue,
  faultMph: FAULT_DEFAULTS.mph,
  faultFahrenheit: FAULT_DEFAULTS.fahrenheit,
  faultMalformed: FAULT_DEFAULTS.malformed,
  schema: 'public',
};
const startOf = (opts: Partial<SeedCliOptions>): number =>
  seedRunFromOptions({ ...base, ...opts }, NOW, () => 1).simulation.startTime;

describe('seed --start', () => {
  it('live: starts as far back as 60× covers in an hour, or in --duration, so it ends at the present', () => {
    // 40 events/s × 30 s ÷ 20 vehicles = 60×, the demo's speed.
    expect(startOf({ rate: 40 })).toBe(Date.parse('2026-12-05T12:00:00Z') - 59 * HOUR);
    expect(startOf({ rate: 40, duration: 10 * 60_000 })).toBe(
      Date.parse('2026-12-05T12:00:00Z') - 59 * 10 * 60_000,
    );
  });

  it('bounded runs keep their fixed day; an explicit --start is taken as given', () => {
    expect(startOf({})).toBe(SIMULATION_DEFAULTS.startTime);
    expect(startOf({ rate: 40, start: NOW - HOUR })).toBe(NOW - HOUR);
  });

  it('refuses a live --start ahead of the wall clock, and nothing else', () => {
    expect(seedUsageProblem({ ...base, rate: 40, start: NOW + 60_000 }, NOW)).toMatch(
      /ahead of the wall clock/,
    );
    expect(seedUsageProblem({ ...base, rate: 40, start: NOW - 60_000 }, NOW)).toBeUndefined();
    expect(seedUsageProblem({ ...base, start: NOW + HOUR }, NOW)).toBeUndefined();
  });
});
