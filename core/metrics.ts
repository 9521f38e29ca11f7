// One metric object per name and registry: components created several times in one process
// (tests, several sinks) share the metric instead of failing to register it twice.
import type { Registry } from 'prom-client';

export function registeredOnce<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
