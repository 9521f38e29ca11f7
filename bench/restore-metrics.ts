// What a streams application's registry says about its restores, for the state-restore
// benchmark and its heap-capped child: when the first task is ready, and from where it read.
import type { Registry } from 'prom-client';
import { waitFor } from '../core/wait-for.ts';

/** Waits until a task has restored; returns the seconds the restores themselves took. */
export async function taskRestored(
  registry: Registry,
  options: { timeoutMs: number; description: string },
): Promise<number> {
  return waitFor(
    async () => {
      const histogram = await registry.getSingleMetric('continuum_restore_seconds')?.get();
      const series = (suffix: string): number =>
        histogram?.values.find((v) => nameOf(v).endsWith(suffix))?.value ?? 0;
      return series('_count') >= 1 ? series('_sum') : undefined;
    },
    { ...options, intervalMs: 20, maxIntervalMs: 20 },
  );
}

/** Changelog records restored, by where the restore started. */
export async function restoredRecords(
  registry: Registry,
): Promise<{ fromBeginning: number; fromCheckpoint: number }> {
  const restored = await registry.getSingleMetric('continuum_restored_records_total')?.get();
  const of = (start: string): number =>
    restored?.values.find((v) => v.labels.start === start)?.value ?? 0;
  return { fromBeginning: of('beginning'), fromCheckpoint: of('checkpoint') };
}

/** A histogram's series name (`…_count`, `…_sum`, `…_bucket`). */
function nameOf(value: object): string {
  return (value as { metricName?: string }).metricName ?? '';
}
