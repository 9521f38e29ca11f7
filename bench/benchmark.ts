// The shape every benchmark in bench/ returns, so `npm run bench` can print one table (each
// figure beside the baseline measured in the same run) and write one JSON file.
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';

export interface BenchFigure {
  /** What was measured, e.g. "telemetry SDK publish". */
  name: string;
  value: number;
  unit: 'events/s' | 'changes/s' | 'requests/s' | 'ms' | 'MiB' | 's' | 'min' | '%';
  /** The same work done by the plain client (or the reference) in the same run. */
  baseline?: { name: string; value: number };
  /** Conditions: record size, counts, partitions, guarantees. */
  notes?: string;
}

export interface BenchContext {
  config: Config;
  log: Logger;
  /** Multiplies the default event counts (1 = the documented run; smaller for a smoke run). */
  scale: number;
  /** Command-line options by benchmark name (e.g. `pipeline`); each benchmark validates its own. */
  options?: Readonly<Record<string, unknown>>;
}

export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<BenchFigure[]>;
}
