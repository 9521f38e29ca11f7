// MetricsHistory on Prometheus's HTTP API (query_range), with a timeout: the answer is laid on
// the requested step grid (what a chart plots), and values JSON cannot carry (NaN, ±Inf: e.g.
// a quantile with no observations in its window) become null.
import { ApiError } from '../api-error.ts';
import type { MetricSeries, MetricsHistory } from '../ports.ts';

interface MatrixAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; values: [number, string][] }[];
  };
}

export interface PrometheusMetricsHistoryOptions {
  url: string;
  timeoutMs: number;
}

function finite(text: string): number | null {
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

export function prometheusMetricsHistory(options: PrometheusMetricsHistoryOptions): MetricsHistory {
  return {
    async queryRange(expr, { start, end, stepSeconds }) {
      let answer: MatrixAnswer;
      try {
        const response = await fetch(`${options.url}/api/v1/query_range`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            query: expr,
            start: String(start),
            end: String(end),
            step: String(stepSeconds),
          }),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        answer = (await response.json()) as MatrixAnswer;
      } catch (err) {
        throw new ApiError(503, 'DEPENDENCY_UNAVAILABLE', 'Prometheus did not answer', {
          cause: err,
          headers: { 'retry-after': '5' },
        });
      }
      if (answer.status !== 'success' || answer.data?.resultType !== 'matrix')
        throw new ApiError(503, 'DEPENDENCY_UNAVAILABLE', 'Prometheus refused the query', {
          cause: new Error(answer.error ?? 'not a matrix'),
        });
      const timestamps: number[] = [];
      for (let t = start; t <= end; t += stepSeconds) timestamps.push(t);
      const index = new Map(timestamps.map((t, i) => [t, i]));
      const series: MetricSeries[] = answer.data.result.map(({ metric, values }) => {
        const aligned: (number | null)[] = timestamps.map(() => null);
        for (const [t, v] of values) {
          const i = index.get(t);
          if (i !== undefined) aligned[i] = finite(v);
        }
        return { labels: metric, values: aligned };
      });
      return { timestamps, series };
    },
  };
}
