// The API: request rate, errors and latency, per route template.
import { DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../../../core/metric-catalog.ts';
import { aggregate, quantile, rate } from '../../../core/promql.ts';
import { timeseries } from './panels.ts';

const requests = METRICS.httpRequests;
const errors = { status: { re: '5..' } };

/** Share of requests answered with a 5xx (0 while there are none, not "no data"). */
export const API_ERROR_RATIO = `(${aggregate('sum', requests, [], rate(requests, '5m', errors))} or vector(0)) / ${aggregate('sum', requests, [], rate(requests, '5m'))}`;

export function apiDashboard(): DashboardBuilder {
  return new DashboardBuilder('Continuum · API')
    .uid('continuum-api')
    .description('Requests, errors and latency of the REST API')
    .tags(['continuum'])
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .withRow(new RowBuilder('Traffic'))
    .withPanel(
      timeseries({
        title: 'Requests / s, per route',
        description: 'requests answered, by route template',
        unit: 'reqps',
        queries: [
          {
            expr: aggregate('sum', requests, ['method', 'route'], rate(requests, '1m')),
            legend: '{{method}} {{route}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Client and server errors / s',
        description: '4xx and 5xx answers, by route and status',
        unit: 'reqps',
        queries: [
          {
            expr: aggregate(
              'sum',
              requests,
              ['route', 'status'],
              rate(requests, '5m', { status: { re: '[45]..' } }),
            ),
            legend: '{{status}} {{route}}',
          },
        ],
      }),
    )
    .withRow(new RowBuilder('Errors and latency'))
    .withPanel(
      timeseries({
        title: 'Server error ratio',
        description: 'share of requests answered with a 5xx',
        unit: 'percentunit',
        queries: [{ expr: API_ERROR_RATIO, legend: '5xx share' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Latency p50 and p99, per route',
        description: 'time to answer, by route template',
        unit: 's',
        queries: [
          {
            expr: quantile(0.5, METRICS.httpDuration, ['route'], '5m'),
            legend: 'p50 {{route}}',
          },
          {
            expr: quantile(0.99, METRICS.httpDuration, ['route'], '5m'),
            legend: 'p99 {{route}}',
          },
        ],
      }),
    );
}
