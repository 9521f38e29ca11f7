// The PostgreSQL tables the platform owns, created by one migration step: `continuum stack up`
// (the local stack), the CDC source before it creates its publication and slot, the seeder, and
// the shipment_state sink and API, whichever comes first. So when the CDC source starts before
// the first shipment exists, the table and the slot exist before the first write, and every
// change is streamed (not only the rows a late snapshot finds). Idempotent; concurrent runs
// serialize on an advisory lock: CREATE TABLE IF NOT EXISTS alone races on the catalog (two
// processes creating shipment_state at once on a fresh stack: one fails on
// pg_type_typname_nsp_index).
import { readFile } from 'node:fs/promises';
import nodePath from 'node:path';
import type pg from 'pg';
import { repoRoot } from '../core/paths.ts';

/** The system of record for shipments (the CDC source's table). */
export const SHIPMENTS_SQL = nodePath.join(repoRoot, 'schemas', 'sql', 'shipments.sql');
/** The Unified Shipment State as a table (the PostgreSQL sink's, read by the API). */
export const SHIPMENT_STATE_SQL = nodePath.join(repoRoot, 'schemas', 'sql', 'shipment-state.sql');

/** One lock for every migration of the platform's tables. */
const MIGRATION_LOCK = 'continuum.platform-tables';

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Creates `schema` and the shipments table (and any further DDL files, run inside the schema)
 * when missing, in one transaction. A shipments table that already exists is left as it is:
 * it is the operator's from then on (the CDC source refuses one it cannot stream whole, e.g.
 * without REPLICA IDENTITY FULL, rather than altering it behind the operator's back).
 */
export async function ensureShipmentsTable(
  pool: pg.Pool,
  schema = 'public',
  moreDdlFiles: readonly string[] = [],
): Promise<void> {
  const [shipmentsDdl, ...moreDdl] = await Promise.all(
    [SHIPMENTS_SQL, ...moreDdlFiles].map((file) => readFile(file, 'utf8')),
  );
  await migrate(pool, schema, async (client) => {
    const existing = await client.query<{ oid: string | null }>(
      'SELECT to_regclass($1)::text AS oid',
      [`${quoteIdent(schema)}.shipments`],
    );
    if (existing.rows[0]?.oid == null && shipmentsDdl !== undefined)
      await client.query(shipmentsDdl);
    for (const sql of moreDdl) await client.query(sql);
  });
}

/** Creates `schema` and its shipment_state table when missing (its DDL is idempotent). */
export async function ensureShipmentStateTable(pool: pg.Pool, schema = 'public'): Promise<void> {
  const ddl = await readFile(SHIPMENT_STATE_SQL, 'utf8');
  await migrate(pool, schema, async (client) => {
    await client.query(ddl);
  });
}

/** Runs `step` in one transaction, under the migration lock, with `schema` created and current. */
async function migrate(
  pool: pg.Pool,
  schema: string,
  step: (client: pg.PoolClient) => Promise<void>,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    // SET LOCAL: the pooled connection goes back with its usual search_path.
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    await step(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
