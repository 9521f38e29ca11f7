// Panel builders shared by the dashboards: every query goes to the provisioned Prometheus
// datasource and is built from the metric catalog (core/promql.ts), never typed as a string.
import {
  LegendDisplayMode,
  LegendPlacement,
  VisibilityMode,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import type { NamedQuery } from '../../../core/pipeline-queries.ts';

/** The uid of compose/grafana/provisioning/datasources/prometheus.yml. */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'continuum-prometheus' };

export interface Query {
  expr: string;
  /** Grafana legend, e.g. `{{consumergroup}}`. */
  legend: string;
}

/** Grafana's unit ids for what the catalog measures. */
export type PanelUnit =
  'short' | 's' | 'ms' | 'bytes' | 'Bps' | 'percentunit' | 'reqps' | 'recps' | 'none';

export function legendOf(labels: readonly string[]): string {
  return labels.map((l) => `{{${l}}}`).join(' ');
}

/** A named pipeline query (core/pipeline-queries.ts) as a panel query. */
export function named(query: NamedQuery): Query {
  return { expr: query.expr, legend: legendOf(query.legend) };
}

function target(query: Query, index: number): DataqueryBuilder {
  return new DataqueryBuilder()
    .datasource(PROMETHEUS)
    .refId(String.fromCharCode(65 + index))
    .expr(query.expr)
    .legendFormat(query.legend);
}

export interface PanelOptions {
  title: string;
  description: string;
  unit: PanelUnit;
  queries: readonly Query[];
  /** Width in grid columns (24 per row). */
  span?: number;
}

export function timeseries(options: PanelOptions): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder()
    .title(options.title)
    .description(options.description)
    .datasource(PROMETHEUS)
    .unit(options.unit)
    .span(options.span ?? 12)
    .height(8)
    .min(0)
    .fillOpacity(10)
    .lineWidth(1)
    .showPoints(VisibilityMode.Never)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    );
  options.queries.forEach((q, i) => panel.withTarget(target(q, i)));
  return panel;
}

export function stat(options: PanelOptions): StatPanelBuilder {
  const panel = new StatPanelBuilder()
    .title(options.title)
    .description(options.description)
    .datasource(PROMETHEUS)
    .unit(options.unit)
    .span(options.span ?? 6)
    .height(4);
  options.queries.forEach((q, i) => panel.withTarget(target(q, i)));
  return panel;
}
