// Options of the api-lookup benchmark (`npm run bench -- api-lookup --load-rate 2000`), with
// their defaults; the pipeline's --records, --partitions, --freshness-seconds, --freshness-vehicles and
// --grace-ms apply to its pipeline too (bench/pipeline-options.ts).
import { z } from 'zod';
import { resolveBenchOptions } from './pipeline-options.ts';

export interface ApiLookupBenchOptions {
  /**
   * Telemetry rate of the pipeline while the API is measured under load and in the freshness
   * rows; undefined: half the rate the pipeline (with the Redis sink) sustains, measured first.
   */
  loadRate: number | undefined;
  /** Vehicles whose readings are POSTed and looked up until seen, one reading at a time each. */
  probes: number;
}

export const API_LOOKUP_BENCH_DEFAULTS: ApiLookupBenchOptions = {
  loadRate: undefined,
  // ~20 readings/s at a ~1 s freshness, ~1,000 lookups/s of polling at most (see POLL_MS).
  probes: 20,
};

const schema = z.object({
  loadRate: z.coerce.number().min(1).max(1_000_000).optional(),
  probes: z.coerce.number().int().min(1).max(500),
});

export function resolveApiLookupBenchOptions(given: unknown): ApiLookupBenchOptions {
  const parsed = resolveBenchOptions('api-lookup', schema, API_LOOKUP_BENCH_DEFAULTS, given);
  return { ...parsed, loadRate: parsed.loadRate };
}
