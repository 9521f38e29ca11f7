// The pipeline page's charts: named PromQL queries (core/pipeline-queries.ts, the same ones the
// Grafana dashboards chart) answered by Prometheus over a recent time range. Clients name a
// query; they never send PromQL, so nothing they send can make Prometheus work harder than these
// few fixed expressions do. The bounds: a range of at most 6 h (the page shows the recent past;
// Prometheus keeps 7 days), a step of at least 5 s (the scrape interval: a finer step repeats
// samples) and at most 720 points per series (a chart's width in pixels; Prometheus's own cap is
// 11,000). Answers are shared for 5 s between clients asking the same, since every open page
// polls; Prometheus has 5 s to answer, else 503.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  PIPELINE_QUERY_LIST,
  QUERY_UNITS,
  pipelineQuery,
  type NamedQuery,
} from '../../../core/pipeline-queries.ts';
import { ApiError } from '../../api-error.ts';
import type { ApiDeps, MetricSeries } from '../../ports.ts';
import { readErrors } from '../responses.ts';

export const PIPELINE_METRICS_LIMITS = {
  maxMinutes: 360,
  minStepSeconds: 5,
  maxPoints: 720,
  cacheMs: 5_000,
} as const;

const QueryInfoSchema = z.object({
  id: z.string().describe('the name to ask for'),
  title: z.string(),
  description: z.string(),
  unit: z.enum(QUERY_UNITS),
  legend: z.array(z.string()).describe('labels whose values name each series'),
  expr: z.string().describe('the PromQL it runs (read only; clients cannot send their own)'),
});

const QueryListSchema = z
  .object({ queries: z.array(QueryInfoSchema) })
  .meta({ id: 'PipelineQueryList' });

const SeriesSchema = z.object({
  name: z.string().describe('the legend labels’ values, space-separated'),
  labels: z.record(z.string(), z.string()),
  values: z
    .array(z.number().nullable())
    .describe('one value per timestamp; null where Prometheus has none (or NaN, ±Inf)'),
});

const RangeAnswerSchema = z
  .object({
    query: QueryInfoSchema,
    start: z.number().int().describe('epoch seconds'),
    end: z.number().int().describe('epoch seconds'),
    stepSeconds: z.number().int(),
    timestamps: z.array(z.number().int()).describe('the time grid, epoch seconds'),
    series: z.array(SeriesSchema),
  })
  .meta({ id: 'PipelineMetricRange' });

type RangeAnswer = z.infer<typeof RangeAnswerSchema>;

const RangeQuerySchema = z
  .strictObject({
    minutes: z.coerce
      .number()
      .int()
      .min(1)
      .max(PIPELINE_METRICS_LIMITS.maxMinutes)
      .default(15)
      .describe('how far back from now'),
    stepSeconds: z.coerce
      .number()
      .int()
      .min(PIPELINE_METRICS_LIMITS.minStepSeconds)
      .max(3_600)
      .default(15)
      .describe(
        `seconds between points; at least minutes × 60 ÷ ${PIPELINE_METRICS_LIMITS.maxPoints} (at most ${PIPELINE_METRICS_LIMITS.maxPoints} points)`,
      ),
  })
  .refine((q) => (q.minutes * 60) / q.stepSeconds <= PIPELINE_METRICS_LIMITS.maxPoints, {
    message: `at most ${PIPELINE_METRICS_LIMITS.maxPoints} points: minutes × 60 ÷ stepSeconds`,
    path: ['stepSeconds'],
  });

function info(query: NamedQuery): z.infer<typeof QueryInfoSchema> {
  return {
    id: query.id,
    title: query.title,
    description: query.description,
    unit: query.unit,
    legend: [...query.legend],
    expr: query.expr,
  };
}

function named(query: NamedQuery, series: MetricSeries): RangeAnswer['series'][number] {
  const name = query.legend
    .map((l) => series.labels[l] ?? '')
    .join(' ')
    .trim();
  return { name: name || query.title, labels: series.labels, values: series.values };
}

export interface PipelineMetricsRoutesOptions {
  deps: Pick<ApiDeps, 'metricsHistory'>;
  /** Seconds since the epoch (tests pass a fixed clock). */
  now?: () => number;
}

export const pipelineMetricsRoutes: FastifyPluginCallbackZod<PipelineMetricsRoutesOptions> = (
  app,
  { deps, now = () => Date.now() / 1000 },
  done,
) => {
  const cache = new Map<string, { at: number; answer: Promise<RangeAnswer> }>();

  app.get(
    '/v1/pipeline/metrics',
    {
      schema: {
        tags: ['pipeline'],
        summary:
          'the named queries of the pipeline page (consumer lag, throughput, freshness, dead letters)',
        response: { 200: QueryListSchema, ...readErrors() },
      },
    },
    () => Promise.resolve({ queries: PIPELINE_QUERY_LIST.map(info) }),
  );

  app.get(
    '/v1/pipeline/metrics/:query',
    {
      schema: {
        tags: ['pipeline'],
        summary: 'one named query over the last minutes, from Prometheus, on a step grid',
        params: z.strictObject({
          query: z
            .enum(PIPELINE_QUERY_LIST.map((q) => q.id) as [string, ...string[]])
            .describe('a query GET /v1/pipeline/metrics lists'),
        }),
        querystring: RangeQuerySchema,
        response: { 200: RangeAnswerSchema, ...readErrors() },
      },
    },
    async (request) => {
      // Always found: the path parameter is one of the ids (validated).
      const query = pipelineQuery(request.params.query);
      if (!query) throw new ApiError(404, 'ROUTE_NOT_FOUND', 'no such query');
      const { minutes, stepSeconds } = request.query;
      const at = now();
      for (const [key, entry] of cache)
        if (at - entry.at > PIPELINE_METRICS_LIMITS.cacheMs / 1000) cache.delete(key);
      const key = `${query.id}:${minutes}:${stepSeconds}`;
      const cached = cache.get(key);
      if (cached) return cached.answer;
      // On the step grid, so repeated polls ask Prometheus the same question.
      const end = Math.floor(at / stepSeconds) * stepSeconds;
      const start = end - Math.floor((minutes * 60) / stepSeconds) * stepSeconds;
      const answer = deps.metricsHistory
        .queryRange(query.expr, { start, end, stepSeconds })
        .then(({ timestamps, series }) => ({
          query: info(query),
          start,
          end,
          stepSeconds,
          timestamps,
          series: series.map((s) => named(query, s)),
        }));
      cache.set(key, { at, answer });
      answer.catch(() => cache.delete(key));
      return answer;
    },
  );
  done();
};
