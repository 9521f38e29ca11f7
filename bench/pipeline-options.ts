// Options of the pipeline benchmark (`npm run bench -- pipeline --records 50000 ...`), with their
// defaults beside them; a wrong value fails at start naming the option and what would be valid.
import { z } from 'zod';
import { ContinuumError } from '../core/errors.ts';

export const PIPELINE_ROWS = ['throughput', 'freshness'] as const;
export type PipelineRow = (typeof PIPELINE_ROWS)[number];

export const PIPELINE_CLIENTS = ['kafkajs', 'platformatic'] as const;
export type PipelineClient = (typeof PIPELINE_CLIENTS)[number];

export const PIPELINE_THREADS = ['per-application', 'one'] as const;
/** `continuum streams`'s CONTINUUM_STREAMS_THREADS: a worker thread per application, or one. */
export type PipelineThreads = (typeof PIPELINE_THREADS)[number];

export interface PipelineBenchOptions {
  /** Input records of the throughput rows at scale 1 (telemetry, faults and shipment changes). */
  records: number;
  /** Partitions of every topic the benchmark creates. */
  partitions: number;
  rows: PipelineRow[];
  /** Which Kafka client adapters of the streams runtime to measure, each in its own row. */
  clients: PipelineClient[];
  /** How the applications share threads, each way in its own rows (per client). */
  threads: PipelineThreads[];
  /** Length of the freshness measurement window. */
  freshnessSeconds: number;
  /** Telemetry rate of the freshness rows; undefined: half the lowest sustained rate measured. */
  freshnessRate: number | undefined;
  /** Vehicles (each with one shipment in transit) the freshness telemetry comes from. */
  freshnessVehicles: number;
  /**
   * Reorder grace of telemetry cleaning in the freshness rows. 0 measures the runtime; the
   * platform's default (60 s) holds every reading that long before releasing it, so its
   * freshness is that grace plus the figure measured with 0.
   */
  graceMs: number;
}

export const PIPELINE_BENCH_DEFAULTS: PipelineBenchOptions = {
  // 20–40 s per pipeline throughput row on the shared 2-core machine (see bench/README.md).
  records: 150_000,
  partitions: 6,
  rows: ['throughput', 'freshness'],
  clients: ['kafkajs', 'platformatic'],
  // `continuum streams`'s default; `--threads per-application one` measures both ways.
  threads: ['one'],
  freshnessSeconds: 20,
  freshnessRate: undefined,
  // Enough that readings of one vehicle are rarely in the same transaction (a real fleet sends
  // one per vehicle every 10 s); a few dozen would make every store write hit the same keys.
  freshnessVehicles: 1_000,
  graceMs: 0,
};

export class BenchOptionsError extends ContinuumError {
  override readonly code = 'BENCH_OPTIONS_INVALID';
}

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

const schema = z.object({
  records: positiveInt(10_000_000),
  partitions: positiveInt(64),
  rows: z.array(z.enum(PIPELINE_ROWS)).min(1),
  clients: z.array(z.enum(PIPELINE_CLIENTS)).min(1),
  threads: z.array(z.enum(PIPELINE_THREADS)).min(1),
  freshnessSeconds: z.coerce.number().min(1).max(3_600),
  freshnessRate: z.coerce.number().min(1).max(1_000_000).optional(),
  freshnessVehicles: positiveInt(10_000),
  graceMs: z.coerce.number().int().min(0).max(3_600_000),
});

/** Defaults overlaid with what was given (strings from the command line are coerced). */
export function resolvePipelineBenchOptions(given: unknown): PipelineBenchOptions {
  const parsed = resolveBenchOptions('pipeline', schema, PIPELINE_BENCH_DEFAULTS, given);
  return { ...parsed, freshnessRate: parsed.freshnessRate };
}

/**
 * A benchmark's options: `defaults` overlaid with what was given (undefined: not given), parsed
 * by `schema`; a wrong value throws BenchOptionsError naming the `--option` and the problem.
 */
export function resolveBenchOptions<S extends z.ZodType>(
  bench: string,
  schema: S,
  defaults: z.input<S>,
  given: unknown,
): z.output<S> {
  const input = typeof given === 'object' && given !== null ? given : {};
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse({ ...(defaults as object), ...defined });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${kebab(String(i.path[0]))}: ${i.message}`);
    throw new BenchOptionsError(`${bench} benchmark options: ${problems.join('; ')}`, {
      context: { problems },
    });
  }
  return parsed.data;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
