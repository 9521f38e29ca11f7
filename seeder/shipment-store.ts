// Where the simulator writes shipments: a port, and its PostgreSQL implementation that applies
// one simulated tick's changes in one transaction (INSERT on creation, UPDATE per change).
import nodePath from 'node:path';
import type pg from 'pg';
import { ContinuumError, errorMessage } from '../core/errors.ts';
import { repoRoot } from '../core/paths.ts';
import { ensureShipmentsTable, quoteIdent } from '../schemas/platform-tables.ts';
import type { Shipment, ShipmentStatus } from '../schemas/types.ts';

/** The simulator's record of what really happened to a shipment that finished. */
export interface GroundTruth {
  shipmentId: string;
  seed: number;
  vehicleId: string | null;
  finalStatus: Extract<ShipmentStatus, 'DELIVERED' | 'CANCELLED'>;
  createdAt: number;
  promisedAt: number;
  pickedUpAt: number | null;
  /** True arrival: the simulated time of DELIVERED; null when cancelled. */
  arrivedAt: number | null;
  routeKm: number | null;
  exceptionCount: number;
}

export type ShipmentWrite =
  | { op: 'insert'; shipment: Shipment }
  /** `shipment` is the row after the change; its changeSeq is the stored one plus 1. */
  | { op: 'update'; shipment: Shipment; previousStatus: ShipmentStatus }
  | { op: 'ground-truth'; truth: GroundTruth };

export interface ShipmentStore {
  /** Applies the writes in order, all or nothing. */
  write(batch: readonly ShipmentWrite[]): Promise<void>;
}

/** The stored row disagrees with the simulator: a lost or doubled change, or a stale table. */
export class ShipmentStoreError extends ContinuumError {
  override readonly code: string = 'SHIPMENT_STORE_FAILED';
}

/**
 * A shipment the run creates is in the table already: the same seed makes the same ids, so this
 * seed (or one that overlaps it) already ran into this schema. Not worth retrying.
 */
export class ShipmentExistsError extends ShipmentStoreError {
  override readonly code = 'SHIPMENT_EXISTS';
  readonly shipmentId: string | undefined;
  readonly table: string;

  constructor(table: string, shipmentId: string | undefined, cause: unknown) {
    super(
      `shipment ${shipmentId ?? '(unknown id)'} is already in ${table}: the same seed makes the same shipment ids, so this seed already ran into this schema`,
      { cause, retriable: false, context: { table, shipmentId } },
    );
    this.table = table;
    this.shipmentId = shipmentId;
  }
}

/** The id in PostgreSQL's unique-violation detail: `Key (shipment_id)=(SHP-1) already exists.` */
function duplicateKeyValue(err: unknown): string | undefined {
  const detail = (err as { detail?: unknown }).detail;
  return typeof detail === 'string' ? /\)=\((.*)\) already exists/.exec(detail)?.[1] : undefined;
}

const GROUND_TRUTH_SQL = nodePath.join(repoRoot, 'seeder', 'sql', 'ground-truth.sql');

export class PostgresShipmentStore implements ShipmentStore {
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly shipments: string;
  private readonly groundTruth: string;

  private constructor(pool: pg.Pool, schema: string) {
    this.pool = pool;
    this.schema = schema;
    this.shipments = `${quoteIdent(schema)}.shipments`;
    this.groundTruth = `${quoteIdent(schema)}.shipment_ground_truth`;
  }

  /** Creates the schema and both tables when missing (shared DDL files, run inside the schema). */
  static async create(pool: pg.Pool, schema = 'public'): Promise<PostgresShipmentStore> {
    try {
      await ensureShipmentsTable(pool, schema, [GROUND_TRUTH_SQL]);
    } catch (err) {
      throw new ShipmentStoreError('creating the shipments tables failed', {
        cause: err,
        context: { schema },
      });
    }
    return new PostgresShipmentStore(pool, schema);
  }

  async write(batch: readonly ShipmentWrite[]): Promise<void> {
    if (batch.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      for (const w of batch) await this.apply(client, w);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (err instanceof ShipmentStoreError) throw err;
      if ((err as { code?: string }).code === '23505')
        throw new ShipmentExistsError(`${this.schema}.shipments`, duplicateKeyValue(err), err);
      throw new ShipmentStoreError(`writing shipment changes failed: ${errorMessage(err)}`, {
        cause: err,
        retriable: true,
        context: { schema: this.schema, writes: batch.length },
      });
    } finally {
      client.release();
    }
  }

  private async apply(client: pg.PoolClient, w: ShipmentWrite): Promise<void> {
    if (w.op === 'insert') {
      const s = w.shipment;
      await client.query(
        `INSERT INTO ${this.shipments} (shipment_id, customer_id, origin_id, origin_lat, origin_lon,
           destination_id, destination_lat, destination_lon, vehicle_id, status, weight_kg,
           promised_at, created_at, updated_at, change_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          s.shipmentId,
          s.customerId,
          s.originId,
          s.originLat,
          s.originLon,
          s.destinationId,
          s.destinationLat,
          s.destinationLon,
          s.vehicleId,
          s.status,
          s.weightKg,
          new Date(s.promisedAt),
          new Date(s.createdAt),
          new Date(s.updatedAt),
          s.changeSeq,
        ],
      );
      return;
    }
    if (w.op === 'update') {
      const s = w.shipment;
      const result = await client.query<{ change_seq: string }>(
        `UPDATE ${this.shipments}
            SET status = $2, vehicle_id = $3, updated_at = $4, change_seq = change_seq + 1
          WHERE shipment_id = $1 AND status = $5
          RETURNING change_seq`,
        [s.shipmentId, s.status, s.vehicleId, new Date(s.updatedAt), w.previousStatus],
      );
      const stored = result.rows[0]?.change_seq;
      if (stored === undefined || Number(stored) !== s.changeSeq) {
        throw new ShipmentStoreError('the stored shipment is not the one the simulator changed', {
          context: {
            shipmentId: s.shipmentId,
            expectedStatus: w.previousStatus,
            expectedChangeSeq: s.changeSeq,
            storedChangeSeq: stored ?? null,
          },
        });
      }
      return;
    }
    const t = w.truth;
    await client.query(
      `INSERT INTO ${this.groundTruth} (shipment_id, seed, vehicle_id, final_status, created_at,
         promised_at, picked_up_at, arrived_at, route_km, exception_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        t.shipmentId,
        t.seed,
        t.vehicleId,
        t.finalStatus,
        new Date(t.createdAt),
        new Date(t.promisedAt),
        t.pickedUpAt === null ? null : new Date(t.pickedUpAt),
        t.arrivedAt === null ? null : new Date(t.arrivedAt),
        t.routeKm,
        t.exceptionCount,
      ],
    );
  }
}
