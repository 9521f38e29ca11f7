// Every PromQL expression of every dashboard and alert rule, evaluated by the real Prometheus
// while the platform runs live and is scraped (the stream applications, sinks, CDC source, SDK,
// `continuum lag`, the API, and the stack's PostgreSQL, Redis and broker exporters): each must
// parse and return at least one series. Grafana cannot run here; this is what proves its panels.
import type { Kafka } from 'kafkajs';
import { GROUP_VARIABLE } from '../../compose/grafana/code/lag-dashboard.ts';
import { promqlExpressions, type PromqlExpression } from '../../compose/grafana/code/dashboards.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { METRICS, type MetricProducer, type MetricSpec } from '../../core/metric-catalog.ts';
import { KAFKA_BROKER_JOB } from '../../compose/native/services/kafka-jmx-agent.ts';
import { POSTGRES_EXPORTER_JOB } from '../../compose/native/services/postgres-exporter.ts';
import { REDIS_EXPORTER_JOB } from '../../compose/native/services/redis-exporter.ts';
import { metricsIn } from '../../core/promql.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createKafka } from '../support/kafka.ts';
import { LivePipeline } from '../support/pipeline/live-pipeline.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');

interface QueryAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string> }[] };
}

/** Grafana's variables as their "All" value, so the expression is what a viewer first sees. */
function substituteVariables(expr: string): string {
  return expr.replaceAll(`$${GROUP_VARIABLE.name}`, GROUP_VARIABLE.all);
}

async function query(expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${config.prometheus.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: substituteVariables(expr) }),
  });
  return (await response.json()) as QueryAnswer;
}

/** Where each producer's series come from: this run's processes, or the stack's exporters. */
function sourceOf(producer: MetricProducer, pipelineId: string): string {
  switch (producer) {
    case 'postgres-exporter':
      return `job="${POSTGRES_EXPORTER_JOB}"`;
    case 'redis-exporter':
      return `job="${REDIS_EXPORTER_JOB}"`;
    case 'kafka-broker':
      return `job="${KAFKA_BROKER_JOB}"`;
    case 'prometheus':
      return `pipeline="${pipelineId}"`;
    default:
      return `pipeline="${pipelineId}"`;
  }
}

function seriesName(metric: MetricSpec): string {
  return metric.type === 'histogram' ? `${metric.name}_bucket` : metric.name;
}

const expressions = promqlExpressions();
/** What is wrong with an expression now (nothing: an empty list). */
async function problemsOf(expression: PromqlExpression, pipelineId: string): Promise<string[]> {
  const whole = await query(expression.expr);
  if (whole.status !== 'success') return [`does not parse: ${whole.error ?? whole.errorType}`];
  const measured = await query(expression.measured);
  if (measured.status !== 'success') return [`does not parse: ${measured.error}`];
  const problems: string[] = [];
  if ((measured.data?.result.length ?? 0) === 0) problems.push(`no series: ${expression.measured}`);
  // …and not only from other runs: each metric it names was scraped from this run's processes
  // (or the stack's exporters).
  const named = metricsIn(expression.measured, Object.values(METRICS));
  if (named.length === 0) problems.push('names no catalog metric');
  for (const metric of named) {
    const selector = `${seriesName(metric)}{${sourceOf(metric.producer, pipelineId)}}`;
    const ours = await query(`count(${selector})`);
    if ((ours.data?.result.length ?? 0) === 0) problems.push(`nothing scraped as ${selector}`);
  }
  return problems;
}

describe('PromQL of the dashboards and alert rules, on the real Prometheus', () => {
  let kafka: Kafka;
  let pipeline: LivePipeline | undefined;

  beforeAll(async () => {
    kafka = createKafka(config, 'promql');
    const live = await LivePipeline.start(config, kafka, log);
    pipeline = live;
    await live.waitUntilScraped(config.prometheus.url);
    // Deliveries, lag, dead letters and requests (one refused: the 4xx panel has a series).
    await live.shipmentOnTheRoad();
    await fetch(`${live.api.url}/v1/shipments/SHP-NOT-THERE`);
    await fetch(`${live.api.url}/v1/shipments?limit=5`);
    // The model panels (MAE per version) have series once the run's trainer has trained.
    await live.trainedModels();
    // rate() needs two scrapes inside its window, and the lag in seconds two measurements: wait
    // until every expression answers (each test below then says what is wrong, if anything).
    await waitFor(
      async () => {
        for (const e of expressions) if ((await problemsOf(e, live.id)).length > 0) return false;
        return true;
      },
      { timeoutMs: 150_000, intervalMs: 5_000, description: 'every expression to return series' },
    ).catch(() => undefined);
  }, 720_000);

  afterAll(async () => {
    await pipeline?.stop();
  }, 120_000);

  it('has expressions to check, from every dashboard and alert rule', () => {
    const dashboards = new Set(
      expressions.map((e) => (e.where.startsWith('alert ') ? 'alerts' : e.where.split(' › ')[0])),
    );
    expect(dashboards.size).toBe(6); // five dashboards and the alerts
    expect(expressions.length).toBeGreaterThan(30);
  });

  it.each(expressions.map((e) => [e.where, e] as const))(
    '%s parses and returns at least one series, from this run',
    async (_where, expression) => {
      expect(await problemsOf(expression, pipeline?.id ?? 'none')).toEqual([]);
    },
  );
});
