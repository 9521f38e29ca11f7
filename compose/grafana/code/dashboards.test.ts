// The provisioned dashboards and alert rules are what the code generates (`npm run dashboards`),
// every query names catalog metrics only, and every catalog metric is charted somewhere.
import { readdirSync, readFileSync } from 'node:fs';
import nodePath from 'node:path';
import { parse } from 'yaml';
import { METRICS, type MetricSpec } from '../../../core/metric-catalog.ts';
import { PIPELINE_QUERY_LIST } from '../../../core/pipeline-queries.ts';
import { metricsIn } from '../../../core/promql.ts';
import { alertRulesYaml } from './alert-rules.ts';
import {
  ALERT_RULES_FILE,
  DASHBOARDS,
  DASHBOARDS_DIR,
  dashboardJson,
  dashboardText,
  formatted,
  promqlExpressions,
} from './dashboards.ts';

const catalog: MetricSpec[] = Object.values(METRICS);

/** Identifiers in an expression that are neither PromQL words nor label names. */
const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'by',
  'without',
  'rate',
  'histogram_quantile',
  'or',
  'vector',
  'le',
  'and',
  'unless',
  'label_values',
]);

function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutLabels = withoutStrings
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...withoutLabels.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w) && !/^\d/.test(w));
}

describe('dashboards as code', () => {
  it.each(DASHBOARDS.map((d) => [d.file, d] as const))(
    '%s is committed as the code generates it',
    async (file, { build }) => {
      const committed = readFileSync(nodePath.join(DASHBOARDS_DIR, file), 'utf8');
      expect(committed).toBe(await dashboardText(build));
    },
  );

  it('provisions exactly the generated dashboards', () => {
    const files = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(DASHBOARDS.map((d) => d.file).sort());
  });

  it('commits the alert rules as the code generates them, in a rule file Prometheus reads', async () => {
    const committed = readFileSync(ALERT_RULES_FILE, 'utf8');
    expect(committed).toBe(await formatted(ALERT_RULES_FILE, alertRulesYaml()));
    const rules = (parse(committed) as { groups: { rules: { alert: string; expr: string }[] }[] })
      .groups[0]?.rules;
    expect(rules?.length).toBeGreaterThan(0);
    for (const rule of rules ?? []) expect(rule.expr).toMatch(/(==|>|<)\s*[\d.]+$/);
  });

  it.each(DASHBOARDS.map((d) => [d.file, d] as const))(
    '%s lays its panels on the 24-column grid with unique ids and unique titles',
    (_file, { build }) => {
      const panels = (dashboardJson(build).panels ?? []) as {
        id: number;
        title: string;
        type: string;
        gridPos: { x: number; w: number };
      }[];
      expect(panels.length).toBeGreaterThan(1);
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      const titles = panels.filter((p) => p.type !== 'row').map((p) => p.title);
      expect(new Set(titles).size).toBe(titles.length);
      for (const p of panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    },
  );

  it('names only catalog metrics in every dashboard query and alert rule', () => {
    const known = new Set(
      catalog.flatMap((m) =>
        m.type === 'histogram' ? ['bucket', 'sum', 'count'].map((p) => `${m.name}_${p}`) : [m.name],
      ),
    );
    const expressions = promqlExpressions();
    expect(expressions.length).toBeGreaterThan(20);
    for (const { where, expr } of expressions) {
      const names = metricNames(expr);
      expect({ where, names: names.length > 0 }).toEqual({ where, names: true });
      expect({ where, unknown: names.filter((n) => !known.has(n)) }).toEqual({
        where,
        unknown: [],
      });
    }
  });

  it('charts every catalog metric somewhere, and every named pipeline query', () => {
    const expressions = promqlExpressions().map((e) => e.expr);
    const charted = new Set(expressions.flatMap((e) => metricsIn(e, catalog)).map((m) => m.name));
    expect(catalog.map((m) => m.name).filter((n) => !charted.has(n))).toEqual([]);
    for (const query of PIPELINE_QUERY_LIST) expect(expressions).toContain(query.expr);
  });
});
