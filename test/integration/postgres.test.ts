// PostgreSQL as the system of record and the CDC source: plain SQL with `pg`, and logical
// replication (pgoutput) streamed with pg-logical-replication, acknowledged by commit LSN.
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { loadConfig } from '../../core/config.ts';
import { waitFor } from '../../core/wait-for.ts';
import { ensureShipmentStateTable, ensureShipmentsTable } from '../../schemas/platform-tables.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
// Explicit per test and hook, whatever the runner's default.
const TIMEOUT_MS = 60_000;

describe('PostgreSQL', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: config.postgres.url });
    await client.connect();
  }, TIMEOUT_MS);

  afterAll(async () => {
    await client.end();
  }, TIMEOUT_MS);

  test(
    "processes creating the platform's tables at once on a fresh schema all succeed",
    async () => {
      const schema = uniqueName('test_migrate', '_');
      const pool = new pg.Pool({ connectionString: config.postgres.url, max: 8 });
      try {
        // As on a fresh stack: the sink, the API, the CDC source and the seeder start together.
        // Without the migration lock one of them fails on pg_type_typname_nsp_index.
        await Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            i % 2 === 0
              ? ensureShipmentStateTable(pool, schema)
              : ensureShipmentsTable(pool, schema),
          ),
        );
        const tables = await pool.query<{ t: string }>(
          'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
          [schema],
        );
        expect(tables.rows.map((r) => r.t)).toEqual(['shipment_state', 'shipments']);
      } finally {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      }
    },
    TIMEOUT_MS,
  );

  test(
    'SQL round trip: create, insert, select, drop',
    async () => {
      const table = uniqueName('test_roundtrip', '_');
      await client.query(
        `CREATE TABLE ${table} (id serial PRIMARY KEY, customer text NOT NULL, weight_kg numeric(10, 2), promised_at timestamptz)`,
      );
      try {
        const promisedAt = new Date('2026-01-02T03:04:05.678Z');
        const inserted = await client.query<{ id: number }>(
          `INSERT INTO ${table} (customer, weight_kg, promised_at) VALUES ($1, $2, $3), ($4, $5, $6) RETURNING id`,
          ['acme', '12.50', promisedAt, 'globex', '3.25', null],
        );
        expect(inserted.rowCount).toBe(2);

        const selected = await client.query<{
          id: number;
          customer: string;
          weight_kg: string;
          promised_at: Date | null;
        }>(`SELECT id, customer, weight_kg, promised_at FROM ${table} ORDER BY customer`);
        expect(selected.rows).toEqual([
          {
            id: inserted.rows[0]?.id,
            customer: 'acme',
            weight_kg: '12.50',
            promised_at: promisedAt,
          },
          { id: inserted.rows[1]?.id, customer: 'globex', weight_kg: '3.25', promised_at: null },
        ]);
      } finally {
        await client.query(`DROP TABLE ${table}`);
      }
      const gone = await client.query('SELECT to_regclass($1) AS oid', [table]);
      expect(gone.rows[0]).toEqual({ oid: null });
    },
    TIMEOUT_MS,
  );

  test(
    'logical replication streams inserts in order and the acknowledged commit LSN advances the slot',
    async () => {
      const table = uniqueName('test_cdc', '_');
      const publication = `${table}_pub`;
      const slot = `${table}_slot`;
      await client.query(
        `CREATE TABLE ${table} (id int PRIMARY KEY, sku text NOT NULL, qty int NOT NULL)`,
      );
      const service = new LogicalReplicationService(
        { connectionString: config.postgres.url },
        // Manual acknowledgement only: the test decides which LSN the slot may forget.
        { acknowledge: { auto: false, timeoutSeconds: 0 } },
      );
      let streaming: Promise<unknown> | undefined;
      let slotCreated = false;
      try {
        await client.query(`CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
        await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
        slotCreated = true;
        const initial = await client.query<{ lsn: string }>(
          'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
          [slot],
        );
        const initialLsn = initial.rows[0]?.lsn;
        expect(initialLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

        const received: Pgoutput.Message[] = [];
        const errors: Error[] = [];
        service.on('data', (_lsn: string, message: Pgoutput.Message) => {
          received.push(message);
        });
        service.on('error', (err: Error) => {
          errors.push(err);
        });
        let started = false;
        service.on('start', () => {
          started = true;
        });
        streaming = service
          .subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] }), slot)
          .catch((err: unknown) => {
            errors.push(err instanceof Error ? err : new Error(String(err)));
          });
        await waitFor(
          () => {
            if (errors[0]) throw errors[0];
            return started;
          },
          { timeoutMs: 30_000, description: `replication from slot ${slot} to start` },
        );

        const rows = [
          { id: 1, sku: 'pallet-a', qty: 5 },
          { id: 2, sku: 'pallet-b', qty: 7 },
          { id: 3, sku: 'crate-c', qty: 11 },
        ];
        await client.query('BEGIN');
        for (const row of rows) {
          await client.query(`INSERT INTO ${table} (id, sku, qty) VALUES ($1, $2, $3)`, [
            row.id,
            row.sku,
            row.qty,
          ]);
        }
        await client.query('COMMIT');

        const commit = await waitFor(
          () => {
            if (errors[0]) throw errors[0];
            const lastInsert = received.findLastIndex((m) => m.tag === 'insert');
            if (lastInsert < 0) return undefined;
            const after = received.slice(lastInsert + 1);
            return after.find((m): m is Pgoutput.MessageCommit => m.tag === 'commit');
          },
          { timeoutMs: 30_000, description: `the commit of the inserts into ${table}` },
        );

        const inserts = received.filter((m): m is Pgoutput.MessageInsert => m.tag === 'insert');
        expect(inserts.map((m) => m.relation.name)).toEqual(rows.map(() => table));
        expect(inserts.map((m) => m.new)).toEqual(rows);
        expect(received[0]?.tag).toBe('begin');

        const commitLsn = commit.commitEndLsn;
        if (!commitLsn) throw new Error('commit message without an end LSN');
        expect(await service.acknowledge(commitLsn)).toBe(true);

        const confirmed = await waitFor(
          async () => {
            const result = await client.query<{ lsn: string; reached: boolean; advanced: boolean }>(
              `SELECT confirmed_flush_lsn::text AS lsn,
                    confirmed_flush_lsn >= $2::pg_lsn AS reached,
                    confirmed_flush_lsn > $3::pg_lsn AS advanced
               FROM pg_replication_slots WHERE slot_name = $1`,
              [slot, commitLsn, initialLsn],
            );
            const row = result.rows[0];
            return row?.reached ? row : undefined;
          },
          {
            timeoutMs: 15_000,
            description: `confirmed_flush_lsn of ${slot} to reach ${commitLsn}`,
          },
        );
        expect(confirmed.advanced).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await service.destroy();
        await streaming;
        if (slotCreated) {
          // The walsender lets go of the slot a moment after the connection closes.
          await waitFor(
            async () => {
              await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
              return true;
            },
            { timeoutMs: 15_000, description: `dropping replication slot ${slot}` },
          );
        }
        await client.query(`DROP PUBLICATION IF EXISTS ${publication}`);
        await client.query(`DROP TABLE ${table}`);
      }
    },
    TIMEOUT_MS,
  );
});
