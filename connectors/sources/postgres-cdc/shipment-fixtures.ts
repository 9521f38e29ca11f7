// Source-side fixtures for the CDC integration tests and benchmark: a `shipments` table (the
// real DDL from schemas/sql) in a schema of its own, and the writes the simulator would make.
import { readFileSync } from 'node:fs';
import nodePath from 'node:path';
import type pg from 'pg';
import { repoRoot } from '../../../core/paths.ts';
import { SHIPMENT_STATUSES, type ShipmentStatus } from '../../../schemas/types.ts';

type Queryable = Pick<pg.ClientBase, 'query'>;

export async function createShipmentsSchema(db: Queryable, schema: string): Promise<void> {
  const ddl = readFileSync(nodePath.join(repoRoot, 'schemas', 'sql', 'shipments.sql'), 'utf8');
  await db.query(
    `CREATE SCHEMA ${schema}; SET search_path TO ${schema}; ${ddl}; RESET search_path`,
  );
}

export async function dropShipmentsSchema(db: Queryable, schema: string): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

/** Many shipments in one statement (one transaction when called inside one). */
export async function insertShipments(
  db: Queryable,
  schema: string,
  ids: readonly string[],
): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.shipments (shipment_id, customer_id, origin_id, origin_lat, origin_lon,
       destination_id, destination_lat, destination_lon, vehicle_id, status, weight_kg,
       promised_at, created_at, updated_at, change_seq)
     SELECT id, 'CUS-1', 'DEPOT-1', 52.52, 13.405, 'CITY-2', 48.137, 11.575, NULL, 'CREATED', 12.5,
       now() + interval '2 days', now(), now(), 1
       FROM unnest($1::text[]) AS id`,
    [ids],
  );
}

export async function insertShipment(
  db: Queryable,
  schema: string,
  shipmentId: string,
): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.shipments (shipment_id, customer_id, origin_id, origin_lat, origin_lon,
       destination_id, destination_lat, destination_lon, vehicle_id, status, weight_kg,
       promised_at, created_at, updated_at, change_seq)
     VALUES ($1, 'CUS-1', 'DEPOT-1', 52.52, 13.405, 'CITY-2', 48.137, 11.575, NULL, 'CREATED', 12.5,
       now() + interval '2 days', now(), now(), 1)`,
    [shipmentId],
  );
}

/** The status after `status` on the happy path (DELIVERED stays DELIVERED). */
export function nextStatus(status: ShipmentStatus): ShipmentStatus {
  const happy = SHIPMENT_STATUSES.slice(0, SHIPMENT_STATUSES.indexOf('DELIVERED') + 1);
  const i = happy.indexOf(status);
  return happy[Math.min(i + 1, happy.length - 1)] ?? 'DELIVERED';
}

/** One status step: bumps change_seq, as the simulator does for every change. */
export async function advanceShipment(
  db: Queryable,
  schema: string,
  shipmentId: string,
): Promise<{ changeSeq: number; status: ShipmentStatus }> {
  const current = await db.query<{ status: ShipmentStatus }>(
    `SELECT status FROM ${schema}.shipments WHERE shipment_id = $1`,
    [shipmentId],
  );
  const status = nextStatus(current.rows[0]?.status ?? 'CREATED');
  const updated = await db.query<{ change_seq: string }>(
    `UPDATE ${schema}.shipments
        SET status = $2, change_seq = change_seq + 1, updated_at = now(),
            vehicle_id = COALESCE(vehicle_id, 'VEH-' || $1)
      WHERE shipment_id = $1 RETURNING change_seq`,
    [shipmentId, status],
  );
  return { changeSeq: Number(updated.rows[0]?.change_seq), status };
}

export async function inTransaction<T>(db: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await fn();
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK');
    throw err;
  }
}
