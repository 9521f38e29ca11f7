// shipment.state → PostgreSQL table shipment_state (one row per shipment, the newest version),
// for SQL reporting. Each flush is one INSERT … ON CONFLICT statement whose WHERE lets only a
// higher version replace a row, so replays, duplicates and reordering are harmless.
import type pg from 'pg';
import { SinkWriteError } from '../../../core/errors.ts';
import { ensureShipmentStateTable } from '../../../schemas/platform-tables.ts';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import { NewestPerShipment } from '../newest-per-shipment.ts';
import type { Sink, SinkRecord } from '../sink.ts';
import { buildUpsertSql, isRetriablePgError, upsertParams } from './shipment-state-sql.ts';

export interface ShipmentStatePostgresSinkOptions {
  /** PostgreSQL schema holding the table; tests use a random one. */
  schema: string;
}

export const SHIPMENT_STATE_POSTGRES_DEFAULTS: ShipmentStatePostgresSinkOptions = {
  schema: 'public',
};

export class ShipmentStatePostgresSink implements Sink<UnifiedShipmentState> {
  readonly name = 'postgres';
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly upsertSql: string;
  private readonly pending = new NewestPerShipment();

  constructor(pool: pg.Pool, options: Partial<ShipmentStatePostgresSinkOptions> = {}) {
    this.pool = pool;
    this.schema = options.schema ?? SHIPMENT_STATE_POSTGRES_DEFAULTS.schema;
    this.upsertSql = buildUpsertSql(this.schema);
  }

  /** Creates the schema and the table when missing (the platform's migration step). */
  async ensureTable(): Promise<void> {
    try {
      await ensureShipmentStateTable(this.pool, this.schema);
    } catch (err) {
      throw new SinkWriteError('creating the shipment_state table failed', {
        cause: err,
        retriable: isRetriablePgError(err),
        context: { schema: this.schema },
      });
    }
  }

  add(record: SinkRecord<UnifiedShipmentState>): void {
    this.pending.offer(record.value);
  }

  async flush(): Promise<{ written: number }> {
    if (this.pending.size === 0) return { written: 0 };
    const states = this.pending.values();
    let params: unknown[][];
    try {
      params = upsertParams(states);
    } catch (err) {
      // A timestamp outside what a Date can hold: the same batch would fail again.
      throw new SinkWriteError('shipment states cannot be converted to columns', {
        cause: err,
        retriable: false,
        context: { schema: this.schema, states: states.length },
      });
    }
    let written: number;
    try {
      const result = await this.pool.query(this.upsertSql, params);
      written = result.rowCount ?? 0;
    } catch (err) {
      // Keep the batch: the runner retries the flush, and the version check makes that harmless.
      const code = (err as { code?: unknown }).code;
      throw new SinkWriteError('postgres upsert of shipment states failed', {
        cause: err,
        retriable: isRetriablePgError(err),
        context: { schema: this.schema, table: 'shipment_state', states: states.length, code },
      });
    }
    this.pending.clear();
    return { written };
  }

  discard(): void {
    this.pending.clear();
  }

  close(): Promise<void> {
    this.pending.clear();
    return Promise.resolve();
  }
}
