// The ETA model: holdout MAE of each trained version and live drift against the champion
// (metrics of `continuum ml`, issue 11).
import { DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../../../core/metric-catalog.ts';
import { aggregate, series } from '../../../core/promql.ts';
import { PIPELINE_QUERIES } from '../../../core/pipeline-queries.ts';
import { named, timeseries } from './panels.ts';

export function mlDashboard(): DashboardBuilder {
  return new DashboardBuilder('Continuum · ETA model')
    .uid('continuum-ml')
    .description('Accuracy of each ETA model version and drift of the champion')
    .tags(['continuum'])
    .refresh('30s')
    .time({ from: 'now-24h', to: 'now' })
    .withRow(new RowBuilder('Accuracy'))
    .withPanel(
      timeseries({
        title: 'MAE per model version (minutes)',
        description: METRICS.mlModelMae.help,
        unit: 'none',
        queries: [
          {
            expr: aggregate(
              'max',
              METRICS.mlModelMae,
              ['model', 'version'],
              series(METRICS.mlModelMae),
            ),
            legend: '{{model}} v{{version}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Drift (live MAE ÷ training MAE)',
        description: METRICS.mlDrift.help,
        unit: 'none',
        queries: [named(PIPELINE_QUERIES.modelDrift)],
      }),
    );
}
