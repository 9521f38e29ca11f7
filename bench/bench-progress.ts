// Progress of one benchmark phase: a cli-progress bar on a terminal, a pino line every few
// seconds otherwise (pipes, CI), so a long phase never looks hung.
import cliProgress from 'cli-progress';
import type { Logger } from '../core/logger.ts';

export interface BenchProgressOptions {
  log: Logger;
  /** Draw a bar (a terminal) or log lines. */
  tty: boolean;
  stream: NodeJS.WriteStream;
  logIntervalMs: number;
}

export const BENCH_PROGRESS_DEFAULTS = { logIntervalMs: 5_000 };

export function benchProgressOptions(log: Logger): BenchProgressOptions {
  return {
    log,
    tty: process.stderr.isTTY,
    stream: process.stderr,
    ...BENCH_PROGRESS_DEFAULTS,
  };
}

export class BenchProgress {
  private readonly options: BenchProgressOptions;
  private readonly phase: string;
  private readonly total: number;
  private readonly startedAt = Date.now();
  private bar: cliProgress.SingleBar | undefined;
  private lastLogAt = 0;

  constructor(phase: string, total: number, options: BenchProgressOptions) {
    this.phase = phase;
    this.total = Math.max(1, total);
    this.options = options;
    if (options.tty) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${phase.padEnd(34)} {bar} {percentage}% | {value}/{total} | {detail}`,
          stream: options.stream,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.total, 0, { detail: '' });
    }
  }

  update(done: number, detail = ''): void {
    const value = Math.min(this.total, Math.max(0, Math.round(done)));
    if (this.bar) {
      this.bar.update(value, { detail });
      return;
    }
    const now = Date.now();
    if (now - this.lastLogAt < this.options.logIntervalMs) return;
    this.lastLogAt = now;
    this.options.log.info(
      {
        phase: this.phase,
        done: value,
        total: this.total,
        elapsedSeconds: Math.round((now - this.startedAt) / 1000),
        detail,
      },
      'benchmark progress',
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
