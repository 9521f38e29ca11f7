// The services themselves: PostgreSQL (postgres_exporter), Redis (redis_exporter), the broker
// (the JMX agent in its JVM), and whether every scrape target answers.
import { DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../../../core/metric-catalog.ts';
import { aggregate, rate, series } from '../../../core/promql.ts';
import { stat, timeseries } from './panels.ts';

const m = METRICS;

export function systemDashboard(): DashboardBuilder {
  return new DashboardBuilder('Continuum · system')
    .uid('continuum-system')
    .description('PostgreSQL, Redis and the Kafka broker, measured by their exporters')
    .tags(['continuum'])
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .withRow(new RowBuilder('Scrape targets'))
    .withPanel(
      timeseries({
        title: 'Targets up',
        description: 'whether each scrape target answered (1) or not (0)',
        unit: 'none',
        span: 24,
        queries: [{ expr: series(m.up), legend: '{{job}} {{instance}}' }],
      }),
    )
    .withRow(new RowBuilder('PostgreSQL'))
    .withPanel(
      stat({
        title: 'PostgreSQL reachable',
        description: m.pgUp.help,
        unit: 'none',
        queries: [{ expr: series(m.pgUp), legend: 'pg_up' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Connections per database',
        description: m.pgBackends.help,
        unit: 'short',
        span: 9,
        queries: [
          {
            expr: aggregate('sum', m.pgBackends, ['datname'], series(m.pgBackends)),
            legend: '{{datname}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Transactions / s per database',
        description: 'commits and rollbacks',
        unit: 'short',
        span: 9,
        queries: [
          {
            expr: aggregate('sum', m.pgCommits, ['datname'], rate(m.pgCommits, '1m')),
            legend: 'commit {{datname}}',
          },
          {
            expr: aggregate('sum', m.pgRollbacks, ['datname'], rate(m.pgRollbacks, '1m')),
            legend: 'rollback {{datname}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Database size',
        description: m.pgDatabaseSize.help,
        unit: 'bytes',
        queries: [
          {
            expr: aggregate('max', m.pgDatabaseSize, ['datname'], series(m.pgDatabaseSize)),
            legend: '{{datname}}',
          },
        ],
      }),
    )
    .withRow(new RowBuilder('Redis'))
    .withPanel(
      stat({
        title: 'Redis reachable',
        description: m.redisUp.help,
        unit: 'none',
        queries: [{ expr: series(m.redisUp), legend: 'redis_up' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Redis commands / s and clients',
        description: 'commands processed per second, and connected clients',
        unit: 'short',
        span: 9,
        queries: [
          {
            expr: aggregate('sum', m.redisCommands, [], rate(m.redisCommands, '1m')),
            legend: 'commands/s',
          },
          { expr: series(m.redisClients), legend: 'clients' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Redis memory',
        description: m.redisMemory.help,
        unit: 'bytes',
        span: 9,
        queries: [{ expr: series(m.redisMemory), legend: 'used' }],
      }),
    )
    .withRow(new RowBuilder('Kafka broker'))
    .withPanel(
      timeseries({
        title: 'Records appended / s',
        description: m.brokerMessagesIn.help,
        unit: 'recps',
        queries: [
          {
            expr: aggregate('sum', m.brokerMessagesIn, [], rate(m.brokerMessagesIn, '1m')),
            legend: 'records in',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Bytes in and out / s',
        description: 'produced to and fetched from the broker, all topics',
        unit: 'Bps',
        queries: [
          {
            expr: aggregate('sum', m.brokerBytesIn, [], rate(m.brokerBytesIn, '1m')),
            legend: 'in',
          },
          {
            expr: aggregate('sum', m.brokerBytesOut, [], rate(m.brokerBytesOut, '1m')),
            legend: 'out',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Request time p99 (ms)',
        description: "produce and fetch requests, the broker's own 99th percentile",
        unit: 'ms',
        queries: [
          {
            expr: aggregate(
              'max',
              m.brokerRequestTime,
              ['request'],
              series(m.brokerRequestTime, { quantile: '0.99' }),
            ),
            legend: '{{request}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Partitions at risk, and JVM heap',
        description: 'under-replicated and offline partitions; heap in use',
        unit: 'short',
        queries: [
          { expr: series(m.brokerUnderReplicated), legend: 'under-replicated' },
          { expr: series(m.brokerOfflinePartitions), legend: 'offline' },
          {
            expr: aggregate(
              'sum',
              m.jvmMemoryUsed,
              ['area'],
              series(m.jvmMemoryUsed, { area: 'heap' }),
            ),
            legend: 'heap bytes',
          },
        ],
      }),
    );
}
