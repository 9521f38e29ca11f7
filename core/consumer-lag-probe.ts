// Whether `continuum lag` can measure what it serves: it measures on a timer as well as on each
// scrape, and answers /ready with the outcome. A Kafka outage then shows on /ready (503, with the
// error and since when) while kafkajs's admin retries with its backoff, instead of only as a
// failed scrape; compose's healthcheck asks /ready.
import { errorMessage } from './errors.ts';
import type { PartitionLag } from './consumer-lag.ts';
import type { Readiness } from './metrics-server.ts';

export interface ConsumerLagProbeOptions {
  /** How often to measure between scrapes. */
  intervalMs: number;
  /** Not ready once the last good measurement is older than this. */
  staleAfterMs: number;
  clock?: () => number;
}

export class ConsumerLagProbe {
  private readonly measure: () => Promise<PartitionLag[]>;
  private readonly options: Required<ConsumerLagProbeOptions>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastSuccessAt: number | undefined;
  private lastFailure: { at: number; error: string } | undefined;
  private measured: { groups: number; partitions: number } | undefined;

  constructor(measure: () => Promise<PartitionLag[]>, options: ConsumerLagProbeOptions) {
    this.measure = measure;
    this.options = { clock: Date.now, ...options };
  }

  /** Measures now, then every `intervalMs` (a measurement still running is not started twice). */
  start(): void {
    void this.probe();
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs);
    this.timer.unref();
  }

  /** No more timed measurements (one running is left to finish or fail on its own). */
  stop(): void {
    clearInterval(this.timer);
  }

  /** One measurement, its outcome kept for readiness(). */
  probe(): Promise<void> {
    this.running ??= this.measure()
      .then((lags) => {
        this.lastSuccessAt = this.options.clock();
        this.lastFailure = undefined;
        this.measured = {
          groups: new Set(lags.map((l) => l.group)).size,
          partitions: lags.length,
        };
      })
      .catch((err: unknown) => {
        // Since the first failure of this outage; the error is the latest.
        this.lastFailure = {
          at: this.lastFailure?.at ?? this.options.clock(),
          error: errorMessage(err),
        };
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  readiness(): Readiness {
    const now = this.options.clock();
    const fresh =
      this.lastSuccessAt !== undefined && now - this.lastSuccessAt <= this.options.staleAfterMs;
    const ready = fresh && this.lastFailure === undefined;
    const detail: Record<string, unknown> = {
      lastMeasuredAt:
        this.lastSuccessAt === undefined ? null : new Date(this.lastSuccessAt).toISOString(),
      ...this.measured,
    };
    if (this.lastFailure)
      Object.assign(detail, {
        error: this.lastFailure.error,
        failingSince: new Date(this.lastFailure.at).toISOString(),
      });
    else if (this.lastSuccessAt === undefined) detail.waitingFor = 'first measurement';
    else if (!fresh) detail.waitingFor = 'a measurement (the last one is stale)';
    return { ready, detail };
  }
}
