// The publication, the replication slot and the initial consistent snapshot. The slot is made
// on a replication connection with EXPORT_SNAPSHOT; the table is read in a REPEATABLE READ
// transaction that imports that snapshot, so the snapshot holds exactly the rows committed
// before the slot's consistent point and streaming from the slot yields exactly those after.
import pg from 'pg';
import { ContinuumError, errorMessage } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import { CdcPostgresError } from './errors.ts';
import { lsnToNumber } from './lsn.ts';
import { qualifiedTable, type CdcSourceOptions } from './options.ts';
import { snapshotChange, type KeyedChange, type PgRow } from './row-conversion.ts';

type Queryable = Pick<pg.ClientBase, 'query'>;

export interface SlotState {
  confirmedFlushLsn: string;
  activePid: number | null;
}

// A slot whose snapshot was cut short by a crash must not be streamed from: the rows the
// snapshot did not reach would never arrive. Completion is recorded in the publication's
// comment (a JSON map slot → consistent point), which needs no table of our own.
const MARKER_KEY = 'continuumCdcSnapshots';

export async function ensurePublication(db: Queryable, options: CdcSourceOptions): Promise<void> {
  const found = await db.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [
    options.publication,
  ]);
  if (found.rowCount) return;
  try {
    await db.query(
      `CREATE PUBLICATION ${options.publication} FOR TABLE ${qualifiedTable(options)}`,
    );
  } catch (cause) {
    // Two sources starting together: the other one created it.
    if ((cause as { code?: string }).code === '42710') return;
    throw cause;
  }
}

/**
 * Fails early, and for good, when the table cannot give complete changes: it must exist, have
 * REPLICA IDENTITY FULL (the `before` row of UPDATE and DELETE) and be in the publication.
 */
export async function checkSourceTable(db: Queryable, options: CdcSourceOptions): Promise<void> {
  const table = qualifiedTable(options);
  const found = await db.query<{ replident: string; published: boolean }>(
    `SELECT c.relreplident AS replident,
            EXISTS (SELECT 1 FROM pg_publication_tables p
                     WHERE p.pubname = $3 AND p.schemaname = $1 AND p.tablename = $2) AS published
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [options.schema, options.table, options.publication],
  );
  const row = found.rows[0];
  const context = { table, publication: options.publication };
  if (!row) throw new CdcPostgresError(`table ${table} does not exist`, { context });
  if (row.replident !== 'f') {
    throw new CdcPostgresError(`table ${table} needs REPLICA IDENTITY FULL for before images`, {
      retriable: false,
      context: { ...context, replicaIdentity: row.replident },
    });
  }
  if (!row.published) {
    throw new CdcPostgresError(`publication ${options.publication} does not include ${table}`, {
      retriable: false,
      context,
    });
  }
}

export async function readSlot(db: Queryable, slot: string): Promise<SlotState | undefined> {
  const result = await db.query<{ lsn: string; active_pid: number | null; plugin: string }>(
    `SELECT confirmed_flush_lsn::text AS lsn, active_pid, plugin
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  if (row.plugin !== 'pgoutput') {
    throw new CdcPostgresError(`slot ${slot} uses ${row.plugin}, not pgoutput`, {
      retriable: false,
      context: { slot, plugin: row.plugin },
    });
  }
  return { confirmedFlushLsn: row.lsn, activePid: row.active_pid };
}

async function readMarkers(db: Queryable, publication: string): Promise<Record<string, string>> {
  const result = await db.query<{ comment: string | null }>(
    `SELECT obj_description(oid, 'pg_publication') AS comment FROM pg_publication WHERE pubname = $1`,
    [publication],
  );
  const comment = result.rows[0]?.comment;
  if (!comment) return {};
  try {
    const parsed = JSON.parse(comment) as Record<string, unknown>;
    const markers = parsed[MARKER_KEY];
    return markers && typeof markers === 'object' ? (markers as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export async function snapshotCompleted(
  db: Queryable,
  options: CdcSourceOptions,
): Promise<boolean> {
  return (await readMarkers(db, options.publication))[options.slot] !== undefined;
}

async function markSnapshotCompleted(
  db: Queryable,
  options: CdcSourceOptions,
  consistentPoint: string,
): Promise<void> {
  const markers = {
    ...(await readMarkers(db, options.publication)),
    [options.slot]: consistentPoint,
  };
  const comment = JSON.stringify({ [MARKER_KEY]: markers });
  // COMMENT takes no parameters; the JSON is quoted as a literal.
  await db.query(
    `COMMENT ON PUBLICATION ${options.publication} IS '${comment.replaceAll("'", "''")}'`,
  );
}

export async function dropSlot(db: Queryable, slot: string): Promise<void> {
  await db.query(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
}

export interface SnapshotResult {
  consistentPoint: string;
  rows: number;
}

/**
 * Creates the slot and emits every row of the table as op=SNAPSHOT through `emit` (which must
 * resolve only once Kafka has them), then records that the snapshot completed.
 */
export async function createSlotWithSnapshot(
  db: Queryable,
  options: CdcSourceOptions,
  emit: (changes: KeyedChange[]) => Promise<void>,
  log: Logger,
): Promise<SnapshotResult> {
  const replication = new pg.Client({
    connectionString: options.postgresUrl,
    replication: 'database',
  } as pg.ClientConfig);
  const reader = new pg.Client({ connectionString: options.postgresUrl });
  let connected = false;
  try {
    await replication.connect();
    await reader.connect();
    connected = true;
    const created = await replication.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT "${options.slot}" LOGICAL pgoutput EXPORT_SNAPSHOT`,
    );
    const slotRow = created.rows[0];
    if (!slotRow) throw new CdcPostgresError('CREATE_REPLICATION_SLOT returned no row');
    const { consistent_point: consistentPoint, snapshot_name: snapshotName } = slotRow;
    log.info({ consistentPoint, snapshotName }, 'replication slot created');

    // The exported snapshot lives as long as the replication connection runs no other command.
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await reader.query(`SET TRANSACTION SNAPSHOT '${snapshotName}'`);
    const at = await reader.query<{ now: Date }>('SELECT now() AS now');
    const commitTime = (at.rows[0]?.now ?? new Date()).getTime();
    const table = qualifiedTable(options);
    await reader.query(`DECLARE continuum_snapshot NO SCROLL CURSOR FOR SELECT * FROM ${table}`);
    const position = { commitLsn: lsnToNumber(consistentPoint), txId: 0, commitTime };
    let rows = 0;
    for (;;) {
      const batch = await reader.query<PgRow>(
        `FETCH ${options.snapshotFetchRows} FROM continuum_snapshot`,
      );
      if (batch.rows.length === 0) break;
      await emit(batch.rows.map((row) => snapshotChange(row, table, position)));
      rows += batch.rows.length;
    }
    await reader.query('COMMIT');
    await markSnapshotCompleted(db, options, consistentPoint);
    log.info({ table, rows, consistentPoint }, 'initial snapshot completed');
    return { consistentPoint, rows };
  } catch (cause) {
    // Kafka failures while emitting keep their own type (and retriability).
    if (cause instanceof ContinuumError) throw cause;
    throw new CdcPostgresError(`initial snapshot failed: ${errorMessage(cause)}`, {
      cause,
      context: { slot: options.slot, table: qualifiedTable(options), connected },
    });
  } finally {
    await reader.end().catch(() => undefined);
    await replication.end().catch(() => undefined);
  }
}
