// From a replicated or snapshot `shipments` row (column name → value as pg parsed it) to the
// ShipmentChange contract: timestamptz → epoch ms, bigint change_seq → number, status checked.
import type { Pgoutput } from 'pg-logical-replication';
import {
  SHIPMENT_STATUSES,
  type ChangeOp,
  type Shipment,
  type ShipmentChange,
  type ShipmentStatus,
} from '../../../schemas/types.ts';
import { CdcDecodeError } from './errors.ts';

export type PgRow = Readonly<Record<string, unknown>>;

/** Where a change sits in the WAL; stamped on every change of one transaction. */
export interface ChangePosition {
  /** LSN of the change's own WAL record (0 for snapshot reads). */
  lsn: number;
  /** End LSN of its transaction's commit record: the position acknowledged to PostgreSQL. */
  commitLsn: number;
  txId: number;
  /** Commit time, epoch ms. */
  commitTime: number;
}

export interface KeyedChange {
  /** Kafka key: the shipment id. */
  key: string;
  change: ShipmentChange;
}

const STATUSES: ReadonlySet<string> = new Set(SHIPMENT_STATUSES);

function fail(column: string, expected: string, value: unknown): never {
  throw new CdcDecodeError(`column ${column}: expected ${expected}`, {
    context: { column, expected, value: String(value) },
  });
}

function text(row: PgRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') fail(column, 'text', value);
  return value;
}

function nullableText(row: PgRow, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  return text(row, column);
}

function double(row: PgRow, column: string): number {
  const value = row[column];
  // pg parses float8 to a number; a string appears only if someone changed the global parser.
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (Number.isNaN(n)) fail(column, 'double precision', value);
  return n;
}

function epochMillis(row: PgRow, column: string): number {
  const value = row[column];
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) fail(column, 'timestamptz', value);
  return ms;
}

function safeInteger(row: PgRow, column: string): number {
  const value = row[column];
  // pg parses int8 to a string so no precision is lost silently; check it fits a JS number.
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'bigint' || typeof value === 'string'
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(n)) fail(column, 'bigint within ±2^53', value);
  return n;
}

function status(row: PgRow, column: string): ShipmentStatus {
  const value = text(row, column);
  if (!STATUSES.has(value)) fail(column, `one of ${SHIPMENT_STATUSES.join(', ')}`, value);
  return value as ShipmentStatus;
}

export function toShipment(row: PgRow): Shipment {
  return {
    shipmentId: text(row, 'shipment_id'),
    customerId: text(row, 'customer_id'),
    originId: text(row, 'origin_id'),
    originLat: double(row, 'origin_lat'),
    originLon: double(row, 'origin_lon'),
    destinationId: text(row, 'destination_id'),
    destinationLat: double(row, 'destination_lat'),
    destinationLon: double(row, 'destination_lon'),
    vehicleId: nullableText(row, 'vehicle_id'),
    status: status(row, 'status'),
    weightKg: double(row, 'weight_kg'),
    promisedAt: epochMillis(row, 'promised_at'),
    createdAt: epochMillis(row, 'created_at'),
    updatedAt: epochMillis(row, 'updated_at'),
    changeSeq: safeInteger(row, 'change_seq'),
  };
}

function keyed(
  op: ChangeOp,
  before: Shipment | null,
  after: Shipment | null,
  table: string,
  position: ChangePosition,
  snapshot: boolean,
): KeyedChange {
  const key = (after ?? before)?.shipmentId;
  if (key === undefined) throw new CdcDecodeError(`${op} without a row`, { context: { table } });
  return {
    key,
    change: {
      op,
      before,
      after,
      source: {
        lsn: position.lsn,
        commitLsn: position.commitLsn,
        txId: position.txId,
        table,
        snapshot,
      },
      commitTime: position.commitTime,
    },
  };
}

export type RowChangeMessage =
  Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete;

export function isRowChange(message: Pgoutput.Message): message is RowChangeMessage {
  return message.tag === 'insert' || message.tag === 'update' || message.tag === 'delete';
}

/**
 * Converts one pgoutput row message. UPDATE and DELETE need the old row, which pgoutput sends
 * only under REPLICA IDENTITY FULL (schemas/sql/shipments.sql sets it); without it this fails
 * rather than emitting a change with a silently empty `before`.
 */
export function changeFromPgoutput(
  message: RowChangeMessage,
  position: ChangePosition,
): KeyedChange {
  const table = `${message.relation.schema}.${message.relation.name}`;
  switch (message.tag) {
    case 'insert':
      return keyed('INSERT', null, toShipment(message.new), table, position, false);
    case 'update':
      if (!message.old) throw missingOldRow(message, table);
      return keyed(
        'UPDATE',
        toShipment(message.old),
        toShipment(message.new),
        table,
        position,
        false,
      );
    case 'delete':
      if (!message.old) throw missingOldRow(message, table);
      return keyed('DELETE', toShipment(message.old), null, table, position, false);
  }
}

function missingOldRow(message: RowChangeMessage, table: string): CdcDecodeError {
  return new CdcDecodeError(
    `${message.tag} of ${table} without the old row: set REPLICA IDENTITY FULL`,
    {
      context: { table, replicaIdentity: message.relation.replicaIdentity },
    },
  );
}

/** A row read by the initial snapshot: op SNAPSHOT, lsn 0, commitLsn = the slot's consistent point. */
export function snapshotChange(
  row: PgRow,
  table: string,
  position: Omit<ChangePosition, 'lsn'>,
): KeyedChange {
  return keyed('SNAPSHOT', null, toShipment(row), table, { ...position, lsn: 0 }, true);
}

/** pgoutput commit times are microseconds since the Unix epoch (as a BigInt). */
export function commitTimeMillis(commitTime: Pgoutput.MessageCommit['commitTime']): number {
  // Typed as the BigInt wrapper by the library; the value is a primitive bigint.
  return Number((commitTime as unknown as bigint) / 1000n);
}
