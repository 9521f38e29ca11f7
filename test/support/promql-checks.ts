// The PromQL of every dashboard and alert rule, checked against the real Prometheus while a
// live pipeline (test/support/pipeline/live-pipeline.ts) is scraped: what is wrong with an
// expression now, as a list a test can compare with [].
import { GROUP_VARIABLE } from '../../compose/grafana/code/lag-dashboard.ts';
import { promqlExpressions, type PromqlExpression } from '../../compose/grafana/code/dashboards.ts';
import { KAFKA_BROKER_JOB } from '../../compose/native/services/kafka-jmx-agent.ts';
import { POSTGRES_EXPORTER_JOB } from '../../compose/native/services/postgres-exporter.ts';
import { REDIS_EXPORTER_JOB } from '../../compose/native/services/redis-exporter.ts';
import { METRICS, type MetricProducer, type MetricSpec } from '../../core/metric-catalog.ts';
import { metricsIn } from '../../core/promql.ts';

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

async function query(prometheusUrl: string, expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
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

/** Every expression of the dashboards and alert rules. */
export const expressions = promqlExpressions();

/** What is wrong with an expression now (nothing: an empty list). */
export async function problemsOf(
  prometheusUrl: string,
  expression: PromqlExpression,
  pipelineId: string,
): Promise<string[]> {
  const whole = await query(prometheusUrl, expression.expr);
  if (whole.status !== 'success') return [`does not parse: ${whole.error ?? whole.errorType}`];
  const measured = await query(prometheusUrl, expression.measured);
  if (measured.status !== 'success') return [`does not parse: ${measured.error}`];
  const problems: string[] = [];
  if ((measured.data?.result.length ?? 0) === 0) problems.push(`no series: ${expression.measured}`);
  // …and not only from other runs: each metric it names was scraped from this run's processes
  // (or the stack's exporters).
  const named = metricsIn(expression.measured, Object.values(METRICS));
  if (named.length === 0) problems.push('names no catalog metric');
  for (const metric of named) {
    const selector = `${seriesName(metric)}{${sourceOf(metric.producer, pipelineId)}}`;
    const ours = await query(prometheusUrl, `count(${selector})`);
    if ((ours.data?.result.length ?? 0) === 0) problems.push(`nothing scraped as ${selector}`);
  }
  return problems;
}
