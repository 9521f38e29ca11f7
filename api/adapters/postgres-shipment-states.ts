// The durable store port on the PostgreSQL sink's shipment_state table: lookups by key and
// filtered lists in (state_updated_at, shipment_id) order, paged by keyset (a row comparison the
// table's indexes serve), never by OFFSET.
import type pg from 'pg';
import { rowToShipmentState } from '../../connectors/sinks/postgres/shipment-state-sql.ts';
import { quoteIdent } from '../../schemas/platform-tables.ts';
import type { DurableShipmentStates } from '../ports.ts';

export function postgresShipmentStates(pool: pg.Pool, schema: string): DurableShipmentStates {
  const table = `${quoteIdent(schema)}.shipment_state`;
  return {
    async get(shipmentId) {
      const { rows } = await pool.query(`SELECT * FROM ${table} WHERE shipment_id = $1`, [
        shipmentId,
      ]);
      return rows[0] ? rowToShipmentState(rows[0] as Record<string, unknown>) : null;
    },
    async list(filter, page) {
      const where: string[] = [];
      const params: unknown[] = [];
      const param = (value: unknown): string => {
        params.push(value);
        return `$${params.length}`;
      };
      if (filter.status !== undefined) where.push(`status = ${param(filter.status)}`);
      if (filter.customerId !== undefined) where.push(`customer_id = ${param(filter.customerId)}`);
      if (filter.vehicleId !== undefined) where.push(`vehicle_id = ${param(filter.vehicleId)}`);
      if (filter.updatedSince !== undefined)
        where.push(`state_updated_at >= ${param(new Date(filter.updatedSince).toISOString())}`);
      if (page.after !== undefined)
        where.push(
          `(state_updated_at, shipment_id) > (${param(new Date(page.after.stateUpdatedAt).toISOString())}::timestamptz, ${param(page.after.shipmentId)})`,
        );
      const sql = [
        `SELECT * FROM ${table}`,
        where.length > 0 ? `WHERE ${where.join(' AND ')}` : '',
        `ORDER BY state_updated_at, shipment_id LIMIT ${param(page.limit)}`,
      ].join(' ');
      const { rows } = await pool.query(sql, params);
      return rows.map((r) => rowToShipmentState(r as Record<string, unknown>));
    },
  };
}
