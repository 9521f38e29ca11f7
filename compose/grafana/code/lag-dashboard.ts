// Consumer lag per group and per partition, in records and in seconds (from `continuum lag`,
// in kafka_exporter's metric names), with a group picker.
import {
  DashboardBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../../../core/metric-catalog.ts';
import { PIPELINE_QUERIES } from '../../../core/pipeline-queries.ts';
import { aggregate, series } from '../../../core/promql.ts';
import { PROMETHEUS, named, timeseries } from './panels.ts';

/** The group picker's variable; its "All" value matches every group. */
export const GROUP_VARIABLE = { name: 'consumergroup', all: '.+' } as const;

const lag = METRICS.consumerLag;
const lagSeconds = METRICS.consumerLagSeconds;
const chosen = { consumergroup: { re: `$${GROUP_VARIABLE.name}` } };

export function lagDashboard(): DashboardBuilder {
  return new DashboardBuilder('Continuum · consumer lag')
    .uid('continuum-lag')
    .description('How far each consumer group is behind, in records and in time')
    .tags(['continuum'])
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .withVariable(
      new QueryVariableBuilder(GROUP_VARIABLE.name)
        .label('Consumer group')
        .datasource(PROMETHEUS)
        .query(`label_values(${lag.name}, consumergroup)`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .allValue(GROUP_VARIABLE.all),
    )
    .withRow(new RowBuilder('Per group'))
    .withPanel(
      timeseries({
        title: 'Lag per group (records)',
        description: PIPELINE_QUERIES.consumerLag.description,
        unit: 'short',
        queries: [named(PIPELINE_QUERIES.consumerLag)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Lag per group (seconds)',
        description: PIPELINE_QUERIES.consumerLagSeconds.description,
        unit: 's',
        queries: [named(PIPELINE_QUERIES.consumerLagSeconds)],
      }),
    )
    .withRow(new RowBuilder('Per partition of the chosen groups'))
    .withPanel(
      timeseries({
        title: 'Lag per partition (records)',
        description: 'records the group has yet to commit, per topic partition',
        unit: 'short',
        queries: [
          {
            expr: aggregate(
              'sum',
              lag,
              ['consumergroup', 'topic', 'partition'],
              series(lag, chosen),
            ),
            legend: '{{consumergroup}} {{topic}}/{{partition}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Lag per partition (seconds)',
        description: "how long the partition's oldest uncommitted record has waited",
        unit: 's',
        queries: [
          {
            expr: aggregate(
              'max',
              lagSeconds,
              ['consumergroup', 'topic', 'partition'],
              series(lagSeconds, chosen),
            ),
            legend: '{{consumergroup}} {{topic}}/{{partition}}',
          },
        ],
      }),
    );
}
