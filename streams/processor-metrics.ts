// Counters of what the platform's processors drop or skip on purpose (duplicates, deliveries
// without a trip to learn from), wired to their callbacks by the composition root. Counted when
// processed: a batch replayed after an aborted transaction counts again.
import { Counter, register as defaultRegistry, type Registry } from 'prom-client';
import { registeredOnce } from '../core/metrics.ts';
import type { ExampleSkipReason } from './join/trip-checkpoints.ts';

export interface ProcessorCallbacks {
  onDuplicateReading: () => void;
  onDuplicateChange: () => void;
  onStaleReading: () => void;
  onExampleSkipped: (reason: ExampleSkipReason) => void;
}

export function processorMetrics(registry: Registry = defaultRegistry): ProcessorCallbacks {
  const dropped = registeredOnce(
    registry,
    'continuum_records_dropped_total',
    () =>
      new Counter({
        name: 'continuum_records_dropped_total',
        help: 'Input records a processor dropped on purpose (not dead letters), by reason',
        labelNames: ['processor', 'reason'],
        registers: [registry],
      }),
  );
  const skipped = registeredOnce(
    registry,
    'continuum_delivery_examples_skipped_total',
    () =>
      new Counter({
        name: 'continuum_delivery_examples_skipped_total',
        help: 'Deliveries that gave no training example, by reason',
        labelNames: ['reason'],
        registers: [registry],
      }),
  );
  const drops = {
    duplicateReading: { processor: 'clean-telemetry', reason: 'duplicate' },
    duplicateChange: { processor: 'clean-shipments', reason: 'duplicate' },
    staleReading: { processor: 'shipment-state', reason: 'stale-reading' },
  };
  // From 0, so a dashboard reads a rate of 0 (not "no data") before the first drop.
  for (const labels of Object.values(drops)) dropped.inc(labels, 0);
  return {
    onDuplicateReading: () => dropped.inc(drops.duplicateReading),
    onDuplicateChange: () => dropped.inc(drops.duplicateChange),
    onStaleReading: () => dropped.inc(drops.staleReading),
    onExampleSkipped: (reason) => skipped.inc({ reason }),
  };
}
