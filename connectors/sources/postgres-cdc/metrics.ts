// Prometheus metrics of the CDC source, registered in the Registry the caller passes in and
// labelled by slot, so several sources may share one registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import { registeredOnce } from '../../../core/metrics.ts';
import type { ChangeOp } from '../../../schemas/types.ts';

export type CdcErrorKind = 'postgres' | 'kafka' | 'decode';

export class CdcMetrics {
  readonly slot: string;
  private readonly changes: Counter<'slot' | 'op'>;
  private readonly transactions: Counter<'slot'>;
  private readonly lagBytes: Gauge<'slot'>;
  private readonly lagSeconds: Gauge<'slot'>;
  private readonly acknowledgedLsn: Gauge<'slot'>;
  private readonly errors: Counter<'slot' | 'kind'>;
  private readonly spilled: Counter<'slot'>;

  constructor(registry: Registry, slot: string) {
    this.slot = slot;
    const registers = [registry];
    this.changes = registeredOnce(
      registry,
      'continuum_cdc_changes_produced_total',
      () =>
        new Counter({
          name: 'continuum_cdc_changes_produced_total',
          help: 'ShipmentChange records acknowledged by Kafka, by op',
          labelNames: ['slot', 'op'],
          registers,
        }),
    );
    this.transactions = registeredOnce(
      registry,
      'continuum_cdc_transactions_total',
      () =>
        new Counter({
          name: 'continuum_cdc_transactions_total',
          help: 'source transactions whose changes reached Kafka and whose commit LSN was confirmed',
          labelNames: ['slot'],
          registers,
        }),
    );
    this.lagBytes = registeredOnce(
      registry,
      'continuum_cdc_lag_bytes',
      () =>
        new Gauge({
          name: 'continuum_cdc_lag_bytes',
          help: 'pg_current_wal_lsn() minus the slot confirmed_flush_lsn (polled)',
          labelNames: ['slot'],
          registers,
        }),
    );
    this.lagSeconds = registeredOnce(
      registry,
      'continuum_cdc_lag_seconds',
      () =>
        new Gauge({
          name: 'continuum_cdc_lag_seconds',
          help: 'now minus the commit time of the last transaction produced (0 once caught up)',
          labelNames: ['slot'],
          registers,
        }),
    );
    this.acknowledgedLsn = registeredOnce(
      registry,
      'continuum_cdc_acknowledged_lsn',
      () =>
        new Gauge({
          name: 'continuum_cdc_acknowledged_lsn',
          help: 'last LSN confirmed to PostgreSQL as flushed (as a number)',
          labelNames: ['slot'],
          registers,
        }),
    );
    this.errors = registeredOnce(
      registry,
      'continuum_cdc_errors_total',
      () =>
        new Counter({
          name: 'continuum_cdc_errors_total',
          help: 'failures of the CDC source, by kind (postgres, kafka, decode)',
          labelNames: ['slot', 'kind'],
          registers,
        }),
    );
    this.spilled = registeredOnce(
      registry,
      'continuum_cdc_spilled_changes_total',
      () =>
        new Counter({
          name: 'continuum_cdc_spilled_changes_total',
          help: 'changes of transactions larger than the in-memory limit written to a spill file',
          labelNames: ['slot'],
          registers,
        }),
    );
  }

  changesSpilled(count: number): void {
    this.spilled.inc({ slot: this.slot }, count);
  }

  changeProduced(op: ChangeOp, count = 1): void {
    this.changes.inc({ slot: this.slot, op }, count);
  }

  transactionDone(): void {
    this.transactions.inc({ slot: this.slot });
  }

  setLagBytes(bytes: number): void {
    this.lagBytes.set({ slot: this.slot }, bytes);
  }

  setLagSeconds(seconds: number): void {
    this.lagSeconds.set({ slot: this.slot }, Math.max(0, seconds));
  }

  acknowledged(lsn: number): void {
    this.acknowledgedLsn.set({ slot: this.slot }, lsn);
  }

  error(kind: CdcErrorKind): void {
    this.errors.inc({ slot: this.slot, kind });
  }
}
