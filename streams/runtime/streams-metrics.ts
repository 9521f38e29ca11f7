// Prometheus metrics of a streams application (names per CONVENTIONS.md).
import { deadLetterCounter, registeredOnce } from '../../core/metrics.ts';
import { Counter, Histogram, register as defaultRegistry, type Registry } from 'prom-client';

export class StreamsMetrics {
  readonly recordsProcessed: Counter;
  readonly recordsForwarded: Counter;
  readonly deadLettered: Counter;
  readonly processingSeconds: Histogram;
  readonly commitSeconds: Histogram;
  readonly restoreSeconds: Histogram;
  readonly restoredRecords: Counter;
  readonly freshnessSeconds: Histogram;
  readonly aborts: Counter;
  readonly repartitionPurges: Counter;

  constructor(registry: Registry = defaultRegistry) {
    const registers = [registry];
    this.recordsProcessed = registeredOnce(
      registry,
      'continuum_records_processed_total',
      () =>
        new Counter({
          name: 'continuum_records_processed_total',
          help: 'Input records processed',
          labelNames: ['application'],
          registers,
        }),
    );
    this.recordsForwarded = registeredOnce(
      registry,
      'continuum_records_forwarded_total',
      () =>
        new Counter({
          name: 'continuum_records_forwarded_total',
          help: 'Records forwarded to a processor or sink',
          labelNames: ['application', 'processor'],
          registers,
        }),
    );
    this.deadLettered = deadLetterCounter(registry);
    this.processingSeconds = registeredOnce(
      registry,
      'continuum_processing_seconds',
      () =>
        new Histogram({
          name: 'continuum_processing_seconds',
          help: 'Processing time of one fetched batch',
          labelNames: ['application'],
          buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
          registers,
        }),
    );
    this.commitSeconds = registeredOnce(
      registry,
      'continuum_commit_seconds',
      () =>
        new Histogram({
          name: 'continuum_commit_seconds',
          help: 'Time to write outputs, changelogs and offsets and commit',
          labelNames: ['application', 'guarantee'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers,
        }),
    );
    this.restoreSeconds = registeredOnce(
      registry,
      'continuum_restore_seconds',
      () =>
        new Histogram({
          name: 'continuum_restore_seconds',
          help: 'Time to restore a task from its changelogs',
          labelNames: ['application'],
          buckets: [0.1, 0.5, 1, 5, 10, 30, 60],
          registers,
        }),
    );
    this.restoredRecords = registeredOnce(
      registry,
      'continuum_restored_records_total',
      () =>
        new Counter({
          name: 'continuum_restored_records_total',
          help: 'Changelog records applied to restore tasks (start: beginning or checkpoint)',
          labelNames: ['application', 'start'],
          registers,
        }),
    );
    this.freshnessSeconds = registeredOnce(
      registry,
      'continuum_freshness_seconds',
      () =>
        new Histogram({
          name: 'continuum_freshness_seconds',
          help: 'Event time to output committed, per output record',
          labelNames: ['application', 'topic'],
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
          registers,
        }),
    );
    this.aborts = registeredOnce(
      registry,
      'continuum_transaction_aborts_total',
      () =>
        new Counter({
          name: 'continuum_transaction_aborts_total',
          help: 'Transactions aborted',
          labelNames: ['application'],
          registers,
        }),
    );
    this.repartitionPurges = registeredOnce(
      registry,
      'continuum_repartition_purges_total',
      () =>
        new Counter({
          name: 'continuum_repartition_purges_total',
          help: 'Rounds of deleting consumed repartition records, by outcome (purged, failed)',
          labelNames: ['application', 'outcome'],
          registers,
        }),
    );
  }

  /**
   * Counters of rare events start at 0 for the application, so a dashboard or alert reads a rate
   * of 0 (not "no data") until the first abort or purge round.
   */
  initialize(application: string): void {
    this.aborts.inc({ application }, 0);
    for (const outcome of ['purged', 'failed'])
      this.repartitionPurges.inc({ application, outcome }, 0);
  }
}
