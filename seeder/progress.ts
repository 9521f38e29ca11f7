// Progress of a seed run: a cli-progress bar on a terminal, a pino line every few seconds
// otherwise; both show events/s (wall), shipments and faults, and feed the Prometheus metrics.
import cliProgress from 'cli-progress';
import type { Logger } from '../core/logger.ts';
import { formatDuration } from './duration.ts';
import type { SeedMetrics } from './seed-metrics.ts';
import type { SeedStatistics, SeedStatisticsSnapshot } from './statistics.ts';

export interface ProgressOptions {
  /** Draw a bar (a terminal) or log lines (pipes, CI, containers). */
  tty: boolean;
  log: Logger;
  /** Where the bar is drawn. */
  stream: NodeJS.WriteStream;
  /** Simulated duration of the run, the bar's 100 %. */
  simulatedTotalMs: number;
  metrics?: SeedMetrics;
  /** How often to log (non-TTY); the bar redraws faster. */
  logIntervalMs: number;
}

export const PROGRESS_DEFAULTS = { logIntervalMs: 5_000 };

export class SeedProgress {
  private readonly options: ProgressOptions;
  private readonly statistics: SeedStatistics;
  private bar: cliProgress.SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private lastWall = 0;

  constructor(statistics: SeedStatistics, options: ProgressOptions) {
    this.statistics = statistics;
    this.options = options;
  }

  start(): void {
    this.lastWall = Date.now();
    if (this.options.tty) {
      this.bar = new cliProgress.SingleBar(
        {
          format:
            'seed {bar} {percentage}% | sim {simulated} | {rate} ev/s | shipments {shipments} (delivered {delivered}) | faults {faults}',
          stream: this.options.stream,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.options.simulatedTotalMs, 0, this.payload(0));
    }
    const every = this.options.tty ? 500 : this.options.logIntervalMs;
    this.timer = setInterval(() => this.report(), every);
    // Progress must never keep a finished process alive.
    this.timer.unref();
  }

  private payload(rate: number): Record<string, string | number> {
    const s = this.statistics;
    return {
      simulated: formatDuration(s.simulatedMs),
      rate: rate.toFixed(0),
      shipments: s.shipmentsCreated,
      delivered: s.changesByStatus.DELIVERED,
      faults: s.faultsTotal,
    };
  }

  private report(): SeedStatisticsSnapshot {
    const snapshot = this.statistics.snapshot();
    const now = Date.now();
    const rate =
      ((snapshot.telemetrySent - this.lastSent) * 1000) / Math.max(1, now - this.lastWall);
    this.lastSent = snapshot.telemetrySent;
    this.lastWall = now;
    this.options.metrics?.observe(snapshot);
    if (this.bar)
      this.bar.update(
        Math.min(snapshot.simulatedMs, this.options.simulatedTotalMs),
        this.payload(rate),
      );
    else
      this.options.log.info(
        {
          simulatedMs: snapshot.simulatedMs,
          eventsPerSecond: Math.round(rate),
          telemetrySent: snapshot.telemetrySent,
          shipmentsCreated: snapshot.shipmentsCreated,
          delivered: snapshot.changesByStatus.DELIVERED,
          faults: this.statistics.faultsTotal,
        },
        'seed progress',
      );
    return snapshot;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const snapshot = this.statistics.snapshot();
    this.options.metrics?.observe(snapshot);
    if (this.bar) {
      this.bar.update(
        Math.min(snapshot.simulatedMs, this.options.simulatedTotalMs),
        this.payload(0),
      );
      this.bar.stop();
    }
  }
}
