// A MetricsHistory for inject tests: answers every query with the series it was given (on the
// asked grid) and records what it was asked.
import type { MetricSeries, MetricsHistory } from './ports.ts';

export class InMemoryMetricsHistory implements MetricsHistory {
  readonly asked: { expr: string; start: number; end: number; stepSeconds: number }[] = [];
  /** The labels of the series every answer holds; each value is the grid index. */
  series: Record<string, string>[] = [];
  /** Set to make the next answers fail (Prometheus down). */
  failure: Error | undefined;

  queryRange(
    expr: string,
    range: { start: number; end: number; stepSeconds: number },
  ): Promise<{ timestamps: number[]; series: MetricSeries[] }> {
    this.asked.push({ expr, ...range });
    if (this.failure) return Promise.reject(this.failure);
    const timestamps: number[] = [];
    for (let t = range.start; t <= range.end; t += range.stepSeconds) timestamps.push(t);
    return Promise.resolve({
      timestamps,
      series: this.series.map((labels) => ({ labels, values: timestamps.map((_, i) => i) })),
    });
  }
}
