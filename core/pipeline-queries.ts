// The pipeline's health as named PromQL queries: the UI's pipeline page asks the API for them by
// name (GET /v1/pipeline/metrics/:query), and the Grafana dashboards chart the same expressions,
// so the view that works natively and the one Grafana shows cannot disagree.
import { METRICS } from './metric-catalog.ts';
import { aggregate, quantile, rate, series } from './promql.ts';

export const QUERY_UNITS = ['records', 'seconds', 'records/s', 'requests/s', 'ratio'] as const;
export type QueryUnit = (typeof QUERY_UNITS)[number];

export interface NamedQuery {
  /** Stable id, the API's path parameter. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly unit: QueryUnit;
  /** Labels whose values name each series (its legend). */
  readonly legend: readonly string[];
  readonly expr: string;
}

const lag = METRICS.consumerLag;
const lagSeconds = METRICS.consumerLagSeconds;
const processed = METRICS.recordsProcessed;
const written = METRICS.sinkRecordsWritten;
const dlq = METRICS.deadLetters;

export const PIPELINE_QUERIES = {
  consumerLag: {
    id: 'consumer-lag',
    title: 'Consumer lag',
    description: 'records each consumer group has yet to commit, all partitions',
    unit: 'records',
    legend: ['consumergroup'],
    expr: aggregate('sum', lag, ['consumergroup'], series(lag)),
  },
  consumerLagSeconds: {
    id: 'consumer-lag-seconds',
    title: 'Consumer lag (time)',
    description: "how long each group's oldest uncommitted record has waited, worst partition",
    unit: 'seconds',
    legend: ['consumergroup'],
    expr: aggregate('max', lagSeconds, ['consumergroup'], series(lagSeconds)),
  },
  throughput: {
    id: 'throughput',
    title: 'Throughput per stage',
    description: 'input records each stream application commits per second',
    unit: 'records/s',
    legend: ['application'],
    expr: aggregate('sum', processed, ['application'], rate(processed, '1m')),
  },
  sinkWrites: {
    id: 'sink-writes',
    title: 'Sink writes',
    description: 'records each sink writes per second',
    unit: 'records/s',
    legend: ['sink'],
    expr: aggregate('sum', written, ['sink'], rate(written, '1m')),
  },
  freshnessP50: {
    id: 'freshness-p50',
    title: 'Freshness p50',
    description: 'event time to output committed, median, per stream application',
    unit: 'seconds',
    legend: ['application'],
    expr: quantile(0.5, METRICS.freshness, ['application'], '5m'),
  },
  freshnessP99: {
    id: 'freshness-p99',
    title: 'Freshness p99',
    description: 'event time to output committed, 99th percentile, per stream application',
    unit: 'seconds',
    legend: ['application'],
    expr: quantile(0.99, METRICS.freshness, ['application'], '5m'),
  },
  deadLetters: {
    id: 'dead-letters',
    title: 'Dead letters',
    description: 'records sent to a dead-letter topic per second, by processor and reason',
    unit: 'records/s',
    legend: ['processor', 'reason'],
    expr: aggregate('sum', dlq, ['processor', 'reason'], rate(dlq, '5m')),
  },
  modelDrift: {
    id: 'model-drift',
    title: 'ETA model drift',
    description: "live MAE of completed deliveries over the champion's training MAE (continuum ml)",
    unit: 'ratio',
    legend: ['model'],
    expr: aggregate('max', METRICS.mlDrift, ['model'], series(METRICS.mlDrift)),
  },
} as const satisfies Record<string, NamedQuery>;

export const PIPELINE_QUERY_LIST: readonly NamedQuery[] = Object.values(PIPELINE_QUERIES);

export function pipelineQuery(id: string): NamedQuery | undefined {
  return PIPELINE_QUERY_LIST.find((q) => q.id === id);
}
