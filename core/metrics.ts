// One metric object per name and registry: components created several times in one process
// (tests, several sinks) share the metric instead of failing to register it twice.
import { Counter, type Registry } from 'prom-client';

export function registeredOnce<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Records sent to a dead-letter topic, by the processor or sink that rejected them and why
 * (deadLetterReason): one definition for the streams runtime and the sinks, which may share a
 * registry. */
export function deadLetterCounter(registry: Registry): Counter<'processor' | 'reason'> {
  return registeredOnce(
    registry,
    'continuum_dlq_records_total',
    () =>
      new Counter({
        name: 'continuum_dlq_records_total',
        help: 'Records sent to a dead-letter topic',
        labelNames: ['processor', 'reason'],
        registers: [registry],
      }),
  );
}
