// The fleet simulator against the real PostgreSQL: a small bounded run into a random schema;
// the table must hold exactly the shipments, change counts and statuses the simulator reports.
import pg from 'pg';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { MemoryTelemetrySink } from '../../seeder/memory-ports.ts';
import { runSeed } from '../../seeder/run-seed.ts';
import {
  PostgresShipmentStore,
  type ShipmentStoreError,
  ShipmentExistsError,
} from '../../seeder/shipment-store.ts';
import { SIMULATION_DEFAULTS, Simulation } from '../../seeder/simulation.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const TIMEOUT_MS = 60_000;

describe('seeder → PostgreSQL', () => {
  let pool: pg.Pool;
  let schema: string;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
    schema = uniqueName('test_seed', '_');
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const gone = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(gone.rowCount).toBe(0);
    await pool.end();
  }, TIMEOUT_MS);

  test(
    'a bounded run of 20 shipments: rows, change_seq and final statuses match the simulator; ground truth stored apart',
    async () => {
      const store = await PostgresShipmentStore.create(pool, schema);
      const sink = new MemoryTelemetrySink();
      const report = await runSeed({
        simulation: {
          ...SIMULATION_DEFAULTS,
          seed: 2026,
          shipments: 20,
          vehicles: 6,
          customers: 15,
          durationMs: 24 * 3_600_000,
          telemetryIntervalMs: 60_000,
          cancelRate: 0.15,
          exceptionRate: 0.2,
        },
        mode: { kind: 'bounded' },
        store,
        sink,
        log: createLogger('silent'),
      });

      const rows = await pool.query<{
        shipment_id: string;
        status: string;
        vehicle_id: string | null;
        change_seq: string;
        created_at: Date;
        updated_at: Date;
        weight_kg: number;
      }>(
        `SELECT shipment_id, status, vehicle_id, change_seq, created_at, updated_at, weight_kg
           FROM ${schema}.shipments ORDER BY shipment_id`,
      );
      const expected = [...report.shipments].sort((a, b) =>
        a.shipmentId < b.shipmentId ? -1 : a.shipmentId > b.shipmentId ? 1 : 0,
      );
      expect(expected).toHaveLength(20);
      expect(
        rows.rows.map((r) => ({
          shipmentId: r.shipment_id,
          status: r.status,
          vehicleId: r.vehicle_id,
          changeSeq: Number(r.change_seq),
          createdAt: r.created_at.getTime(),
          updatedAt: r.updated_at.getTime(),
          weightKg: r.weight_kg,
        })),
      ).toEqual(
        expected.map((s) => ({
          shipmentId: s.shipmentId,
          status: s.status,
          vehicleId: s.vehicleId,
          changeSeq: s.changeSeq,
          createdAt: s.createdAt,
          updatedAt: s.updatedAt,
          weightKg: s.weightKg,
        })),
      );
      // change_seq counts the insert plus every change the simulator made.
      const changes = Object.values(report.statistics.changesByStatus).reduce((a, b) => a + b, 0);
      expect(rows.rows.reduce((sum, r) => sum + Number(r.change_seq), 0)).toBe(changes);
      expect(report.statistics.shipmentsInFlight).toBe(0);

      const truth = await pool.query<{
        shipment_id: string;
        final_status: string;
        arrived_at: Date | null;
      }>(
        `SELECT shipment_id, final_status, arrived_at FROM ${schema}.shipment_ground_truth ORDER BY shipment_id`,
      );
      expect(truth.rows).toHaveLength(report.groundTruth.length);
      const byId = new Map(report.groundTruth.map((t) => [t.shipmentId, t]));
      for (const row of truth.rows) {
        const t = byId.get(row.shipment_id);
        expect(row.final_status).toBe(t?.finalStatus);
        expect(row.arrived_at?.getTime() ?? null).toBe(t?.arrivedAt);
      }
      const delivered = expected.filter((s) => s.status === 'DELIVERED');
      expect(delivered.length).toBeGreaterThan(0);
      for (const s of delivered) expect(byId.get(s.shipmentId)?.arrivedAt).toBe(s.updatedAt);
      // The shipments table carries no ground-truth column for CDC to leak.
      const columns = await pool.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'shipments'`,
        [schema],
      );
      expect(columns.rows.map((c) => c.column_name)).not.toContain('arrived_at');
      expect(sink.events.length).toBe(report.statistics.telemetrySent);
    },
    TIMEOUT_MS,
  );

  test(
    'rerunning the same seed into the same schema fails on the duplicate key, non-retriable, and writes nothing',
    async () => {
      const store = await PostgresShipmentStore.create(pool, schema);
      const before = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${schema}.shipments`,
      );
      const simulation = new Simulation(
        {
          ...SIMULATION_DEFAULTS,
          seed: 2026,
          shipments: 20,
          vehicles: 6,
          customers: 15,
          durationMs: 24 * 3_600_000,
          telemetryIntervalMs: 60_000,
          cancelRate: 0.15,
          exceptionRate: 0.2,
        },
        { store, sink: new MemoryTelemetrySink() },
      );
      const failure = await simulation.run().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(ShipmentExistsError);
      expect((failure as ShipmentStoreError).retriable).toBe(false);
      // The person reading it learns which shipment and why, not only "writing failed".
      const existing = (failure as ShipmentExistsError).shipmentId;
      expect(existing).toMatch(/\S/);
      const found = await pool.query(`SELECT 1 FROM ${schema}.shipments WHERE shipment_id = $1`, [
        existing,
      ]);
      expect(found.rowCount).toBe(1);
      expect((failure as Error).message).toBe(
        `shipment ${existing} is already in ${schema}.shipments: the same seed makes the same shipment ids, so this seed already ran into this schema`,
      );
      const after = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${schema}.shipments`,
      );
      expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
    },
    TIMEOUT_MS,
  );
});
