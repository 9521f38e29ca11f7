// PromQL written from the metric catalog: selectors and aggregations take a catalog metric and
// only its label names (checked by the type checker), so an expression cannot name a metric or a
// label the platform does not export.
import type { LabelOf, MetricSpec } from './metric-catalog.ts';

/** A label's value: equal to a string, or `{ re }` (=~), `{ not }` (!=), `{ notRe }` (!~). */
export type LabelMatcher = string | { re: string } | { not: string } | { notRe: string };

export type Matchers<M extends MetricSpec> = Partial<Record<LabelOf<M>, LabelMatcher>>;

/** A histogram's series. */
export type HistogramPart = 'bucket' | 'sum' | 'count';

/** A label value as a PromQL string literal (double-quoted, escaped). */
export function promString(value: string): string {
  return JSON.stringify(value);
}

function matcherText(label: string, matcher: LabelMatcher): string {
  if (typeof matcher === 'string') return `${label}=${promString(matcher)}`;
  if ('re' in matcher) return `${label}=~${promString(matcher.re)}`;
  if ('not' in matcher) return `${label}!=${promString(matcher.not)}`;
  return `${label}!~${promString(matcher.notRe)}`;
}

/** `name{label="value",…}`; a histogram needs the part (`_bucket`, `_sum`, `_count`). */
export function series<M extends MetricSpec>(
  metric: M,
  matchers: Matchers<M> = {},
  part?: HistogramPart,
): string {
  if (metric.type === 'histogram' && part === undefined)
    throw new Error(`${metric.name} is a histogram: name its bucket, sum or count series`);
  const name = part === undefined ? metric.name : `${metric.name}_${part}`;
  const entries = Object.entries<LabelMatcher | undefined>(matchers);
  const text = entries
    .filter((e): e is [string, LabelMatcher] => e[1] !== undefined)
    .map(([label, matcher]) => matcherText(label, matcher));
  return text.length === 0 ? name : `${name}{${text.join(',')}}`;
}

/** `rate(<series>[window])` of a counter (or a histogram's part). */
export function rate<M extends MetricSpec>(
  metric: M,
  window: string,
  matchers: Matchers<M> = {},
  part?: HistogramPart,
): string {
  return `rate(${series(metric, matchers, part)}[${window}])`;
}

export type Aggregation = 'sum' | 'max' | 'min' | 'avg' | 'count';

/** `sum by (labels) (expr)`, the labels being the metric's own. */
export function aggregate<M extends MetricSpec>(
  how: Aggregation,
  _metric: M,
  by: readonly LabelOf<M>[],
  expr: string,
): string {
  return by.length === 0 ? `${how}(${expr})` : `${how} by (${by.join(', ')}) (${expr})`;
}

/** `histogram_quantile(q, sum by (le, …) (rate(<metric>_bucket{…}[window])))`. */
export function quantile<M extends MetricSpec>(
  q: number,
  metric: M,
  by: readonly LabelOf<M>[],
  window: string,
  matchers: Matchers<M> = {},
): string {
  return `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (${rate(metric, window, matchers, 'bucket')}))`;
}

/** The catalog metrics an expression names (for tests that hold expressions to the catalog). */
export function metricsIn(expr: string, catalog: readonly MetricSpec[]): MetricSpec[] {
  const names = new Set(
    [...expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{[)\s,]|$)/g)].map((m) => m[1] ?? ''),
  );
  return catalog.filter((m) =>
    m.type === 'histogram'
      ? ['bucket', 'sum', 'count'].some((p) => names.has(`${m.name}_${p}`))
      : names.has(m.name),
  );
}
