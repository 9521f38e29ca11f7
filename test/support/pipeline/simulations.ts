// Simulated runs the pipeline tests share.
import { NO_FAULTS } from '../../../seeder/faults.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../../seeder/simulation.ts';

/**
 * Small and deterministic: a few vehicles for a few simulated hours, so some shipments finish
 * and some are still on the road. Faults limited to those the fold models plainly (see
 * reference-fold.ts): duplicates, reordering within the grace period, MPH/°F and malformed bytes.
 */
export const FOLD_SIMULATION: SimulationOptions = {
  ...SIMULATION_DEFAULTS,
  seed: 20261125,
  vehicles: 5,
  shipments: 10,
  customers: 12,
  durationMs: 2 * 3_600_000,
  telemetryIntervalMs: 10_000,
  faults: {
    ...NO_FAULTS,
    duplicate: 0.02,
    outOfOrder: 0.02,
    mph: 0.03,
    fahrenheit: 0.03,
    malformed: 0.002,
  },
};
