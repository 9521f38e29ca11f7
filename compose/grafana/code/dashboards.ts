// Every dashboard, the file it is provisioned from, and every PromQL expression the dashboards
// and alert rules contain (what the PromQL test evaluates against the real Prometheus).
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import nodePath from 'node:path';
import { format, resolveConfig } from 'prettier';
import { repoRoot } from '../../../core/paths.ts';
import { ALERT_RULES, alertExpr } from './alert-rules.ts';
import { apiDashboard } from './api-dashboard.ts';
import { lagDashboard } from './lag-dashboard.ts';
import { mlDashboard } from './ml-dashboard.ts';
import { pipelineDashboard } from './pipeline-dashboard.ts';
import { systemDashboard } from './system-dashboard.ts';

export const DASHBOARDS_DIR = nodePath.join(repoRoot, 'compose', 'grafana', 'dashboards');
export const ALERT_RULES_FILE = nodePath.join(repoRoot, 'compose', 'prometheus', 'alerts.yml');

export const DASHBOARDS: readonly { file: string; build: () => DashboardBuilder }[] = [
  // The home dashboard of docker-compose's Grafana (GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).
  { file: 'continuum-pipeline.json', build: pipelineDashboard },
  { file: 'continuum-lag.json', build: lagDashboard },
  { file: 'continuum-api.json', build: apiDashboard },
  { file: 'continuum-ml.json', build: mlDashboard },
  { file: 'continuum-system.json', build: systemDashboard },
];

interface PanelJson {
  id?: number;
  title?: string;
  type?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: { expr?: string }[];
}

/**
 * A dashboard as provisioned: the builder's JSON with panels laid out on Grafana's 24-column
 * grid in the order they were added, and numbered (Grafana needs unique panel ids).
 */
export function dashboardJson(build: () => DashboardBuilder): Record<string, unknown> {
  const dashboard = build().build() as unknown as { panels?: PanelJson[] };
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  (dashboard.panels ?? []).forEach((panel, index) => {
    panel.id = index + 1;
    const w = panel.type === 'row' ? 24 : (panel.gridPos?.w ?? 12);
    const h = panel.type === 'row' ? 1 : (panel.gridPos?.h ?? 8);
    if (panel.type === 'row' || x + w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    panel.gridPos = { x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    if (panel.type === 'row') {
      y += h;
      x = 0;
      rowHeight = 0;
    }
  });
  return dashboard;
}

/** A generated file's text, formatted as `npm run format` would (so lint leaves it alone). */
export async function formatted(file: string, text: string): Promise<string> {
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

export function dashboardText(build: () => DashboardBuilder): Promise<string> {
  return formatted('dashboard.json', JSON.stringify(dashboardJson(build)));
}

export interface PromqlExpression {
  /** Where it is: `<dashboard file> › <panel title>` or `alert <name>`. */
  where: string;
  /** The expression as written (Grafana variables included). */
  expr: string;
  /** The part that must return series on a running platform (an alert's measured part). */
  measured: string;
}

export function promqlExpressions(): PromqlExpression[] {
  const fromDashboards = DASHBOARDS.flatMap(({ file, build }) =>
    ((dashboardJson(build).panels ?? []) as PanelJson[]).flatMap((panel) =>
      (panel.targets ?? []).map((t) => ({
        where: `${file} › ${panel.title ?? '?'}`,
        expr: t.expr ?? '',
        measured: t.expr ?? '',
      })),
    ),
  );
  const fromAlerts = ALERT_RULES.map((rule) => ({
    where: `alert ${rule.alert}`,
    expr: alertExpr(rule),
    measured: rule.measured,
  }));
  return [...fromDashboards, ...fromAlerts];
}
