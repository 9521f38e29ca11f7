// The pipeline: throughput per stage, freshness p50/p99, dead letters by reason, and the stream
// runtime's commits, restores and aborts.
import { DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRICS } from '../../../core/metric-catalog.ts';
import { PIPELINE_QUERIES } from '../../../core/pipeline-queries.ts';
import { aggregate, quantile, rate, series } from '../../../core/promql.ts';
import { legendOf, named, timeseries } from './panels.ts';

const m = METRICS;

export function pipelineDashboard(): DashboardBuilder {
  return new DashboardBuilder('Continuum · pipeline')
    .uid('continuum-pipeline')
    .description('Throughput per stage, freshness, dead letters and the stream runtime')
    .tags(['continuum'])
    .refresh('10s')
    .time({ from: 'now-1h', to: 'now' })
    .withRow(new RowBuilder('Throughput'))
    .withPanel(
      timeseries({
        title: 'Records processed / s, per stage',
        description: PIPELINE_QUERIES.throughput.description,
        unit: 'recps',
        queries: [named(PIPELINE_QUERIES.throughput)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Records forwarded / s, per processor',
        description: 'records each processor or sink of a stream application forwarded',
        unit: 'recps',
        queries: [
          {
            expr: aggregate(
              'sum',
              m.recordsForwarded,
              ['application', 'processor'],
              rate(m.recordsForwarded, '1m'),
            ),
            legend: legendOf(['application', 'processor']),
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Sink writes / s',
        description: PIPELINE_QUERIES.sinkWrites.description,
        unit: 'recps',
        queries: [named(PIPELINE_QUERIES.sinkWrites)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Sources: CDC changes and SDK telemetry / s',
        description: 'shipment changes the CDC source produced, by op; telemetry the SDK delivered',
        unit: 'recps',
        queries: [
          {
            expr: aggregate('sum', m.cdcChanges, ['op'], rate(m.cdcChanges, '1m')),
            legend: 'cdc {{op}}',
          },
          {
            expr: aggregate('sum', m.sdkEventsSent, [], rate(m.sdkEventsSent, '1m')),
            legend: 'telemetry sdk',
          },
        ],
      }),
    )
    .withRow(new RowBuilder('Freshness'))
    .withPanel(
      timeseries({
        title: 'Freshness p50 and p99, per stage',
        description: 'event time to output committed',
        unit: 's',
        queries: [
          { expr: PIPELINE_QUERIES.freshnessP50.expr, legend: 'p50 {{application}}' },
          { expr: PIPELINE_QUERIES.freshnessP99.expr, legend: 'p99 {{application}}' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'CDC lag',
        description: 'commit time of the last confirmed source transaction, behind now',
        unit: 's',
        queries: [
          {
            expr: aggregate('max', m.cdcLagSeconds, ['slot'], series(m.cdcLagSeconds)),
            legend: '{{slot}}',
          },
        ],
      }),
    )
    .withRow(new RowBuilder('Errors'))
    .withPanel(
      timeseries({
        title: 'Dead letters / s, by reason',
        description: PIPELINE_QUERIES.deadLetters.description,
        unit: 'recps',
        queries: [named(PIPELINE_QUERIES.deadLetters)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Records dropped on purpose / s, by reason',
        description: 'duplicates and stale readings the processors drop (not dead letters)',
        unit: 'recps',
        queries: [
          {
            expr: aggregate(
              'sum',
              m.recordsDropped,
              ['processor', 'reason'],
              rate(m.recordsDropped, '5m'),
            ),
            legend: legendOf(['processor', 'reason']),
          },
        ],
      }),
    )
    .withRow(new RowBuilder('Stream runtime'))
    .withPanel(
      timeseries({
        title: 'Commits and restores (p99)',
        description: 'time to commit a transaction, and to restore a task from its changelogs',
        unit: 's',
        queries: [
          {
            expr: quantile(0.99, m.commitSeconds, ['application'], '5m'),
            legend: 'commit {{application}}',
          },
          {
            expr: quantile(0.99, m.restoreSeconds, ['application'], '15m'),
            legend: 'restore {{application}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Aborted transactions and failed repartition purges / s',
        description: 'transactions the runtime aborted, and purge rounds that failed',
        unit: 'short',
        queries: [
          {
            expr: aggregate(
              'sum',
              m.transactionAborts,
              ['application'],
              rate(m.transactionAborts, '5m'),
            ),
            legend: 'aborts {{application}}',
          },
          {
            expr: aggregate(
              'sum',
              m.repartitionPurges,
              ['application', 'outcome'],
              rate(m.repartitionPurges, '5m'),
            ),
            legend: 'purges {{application}} {{outcome}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Changelog records restored / s',
        description:
          'records applied to restore tasks: from the beginning (stores in memory, or on disk without a checkpoint) or only the tail after a checkpoint',
        unit: 'short',
        queries: [
          {
            expr: aggregate(
              'sum',
              m.restoredRecords,
              ['application', 'start'],
              rate(m.restoredRecords, '5m'),
            ),
            legend: '{{application}} from {{start}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Sink flushes (p99)',
        description: 'duration of one flush of each sink',
        unit: 's',
        queries: [
          {
            expr: quantile(0.99, m.sinkFlushSeconds, ['sink'], '5m'),
            legend: '{{sink}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Sink flush retries per second',
        description: m.sinkFlushRetries.help,
        unit: 'short',
        queries: [
          {
            expr: aggregate('sum', m.sinkFlushRetries, ['sink'], rate(m.sinkFlushRetries, '5m')),
            legend: '{{sink}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Records held by sinks, unflushed',
        description: m.sinkHeldRecords.help,
        unit: 'short',
        queries: [
          {
            expr: aggregate('max', m.sinkHeldRecords, ['sink'], series(m.sinkHeldRecords)),
            legend: '{{sink}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Bytes held by sinks, unflushed',
        description: m.sinkHeldBytes.help,
        unit: 'bytes',
        queries: [
          {
            expr: aggregate('max', m.sinkHeldBytes, ['sink'], series(m.sinkHeldBytes)),
            legend: '{{sink}}',
          },
        ],
      }),
    );
}
