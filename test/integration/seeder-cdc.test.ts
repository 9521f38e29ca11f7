// The simulator and the CDC source together, on the real PostgreSQL, broker and registry: the
// simulator writes N shipments in transactions; the CDC source delivers exactly those changes
// to Kafka, in commit order per shipment, decodable with nothing but the registry URL.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { cdcOptionsFromConfig } from '../../connectors/sources/postgres-cdc/env.ts';
import { PostgresCdcSource } from '../../connectors/sources/postgres-cdc/postgres-cdc-source.ts';
import type { ShipmentChange } from '../../schemas/types.ts';
import { MemoryTelemetrySink } from '../../seeder/memory-ports.ts';
import { runSeed } from '../../seeder/run-seed.ts';
import { PostgresShipmentStore } from '../../seeder/shipment-store.ts';
import { SIMULATION_DEFAULTS } from '../../seeder/simulation.ts';
import { createKafka, createTestTopic, deleteTestTopics, readToEnd } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { deleteTestSubjects } from '../support/registry.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');

describe('seeder → PostgreSQL → CDC source → Kafka', () => {
  let pool: pg.Pool;
  let kafka: Kafka;
  let topic: string;
  const schema = uniqueName('test_seedcdc', '_');
  const slot = uniqueName('test_slot', '_');
  const publication = uniqueName('test_pub', '_');
  let source: PostgresCdcSource | undefined;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: config.postgres.url, max: 3 });
    kafka = createKafka(config, 'seeder-cdc');
    topic = await createTestTopic(kafka, { partitions: 3 });
  });

  afterAll(async () => {
    await source?.stop();
    await pool.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    await pool.query(`DROP PUBLICATION IF EXISTS ${publication}`);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
    await deleteTestTopics(kafka, [topic]);
    await deleteTestSubjects(config, [topic]);
  });

  it('delivers exactly the simulated changes, in commit order per shipment', async () => {
    const store = await PostgresShipmentStore.create(pool, schema);
    source = new PostgresCdcSource(
      cdcOptionsFromConfig(config, { schema, slot, publication, topic }),
      { log, metricsRegistry: new Registry() },
    );
    await source.start();

    const report = await runSeed({
      simulation: {
        ...SIMULATION_DEFAULTS,
        seed: 4242,
        shipments: 25,
        vehicles: 6,
        customers: 20,
        durationMs: 24 * 3_600_000,
        telemetryIntervalMs: 300_000,
      },
      mode: { kind: 'bounded' },
      store,
      sink: new MemoryTelemetrySink(),
      log: createLogger('silent'),
    });
    const rows = await pool.query<{ shipment_id: string; change_seq: string; status: string }>(
      `SELECT shipment_id, change_seq, status FROM ${schema}.shipments`,
    );
    const expectedChanges = rows.rows.reduce((sum, r) => sum + Number(r.change_seq), 0);
    expect(rows.rows).toHaveLength(25);
    expect(report.shipments).toHaveLength(25);

    // Wait until the source has acknowledged everything the simulator committed.
    const { rows: lsnRows } = await pool.query<{ lsn: string }>(
      'SELECT pg_current_wal_lsn()::text AS lsn',
    );
    const target = lsnRows[0]?.lsn ?? '0/0';
    await waitFor(
      async () => {
        const r = await pool.query<{ caught_up: boolean }>(
          'SELECT confirmed_flush_lsn >= $2::pg_lsn AS caught_up FROM pg_replication_slots WHERE slot_name = $1',
          [slot, target],
        );
        return r.rows[0]?.caught_up === true;
      },
      { timeoutMs: 60_000, description: 'the CDC source to acknowledge the simulated changes' },
    );
    await source.stop();
    source = undefined;

    const decoder = new SchemaRegistry({ host: config.schemaRegistry.url });
    const messages = await readToEnd(kafka, topic);
    const changes = await Promise.all(
      messages.map(async (m) => ({
        key: m.key?.toString(),
        change: (await decoder.decode(m.value as Buffer)) as ShipmentChange,
      })),
    );
    expect(changes).toHaveLength(expectedChanges);
    const perShipment = new Map<string, ShipmentChange[]>();
    for (const { key, change } of changes) {
      expect(key).toBe(change.after?.shipmentId);
      perShipment.set(key ?? '', [...(perShipment.get(key ?? '') ?? []), change]);
    }
    expect(perShipment.size).toBe(25);
    for (const row of rows.rows) {
      const list = perShipment.get(row.shipment_id) ?? [];
      // Commit order per shipment: change_seq 1, 2, … with nothing missing or repeated.
      expect(list.map((c) => c.after?.changeSeq)).toEqual(
        Array.from({ length: Number(row.change_seq) }, (_, i) => i + 1),
      );
      expect(list[0]?.op).toBe('INSERT');
      expect(list.slice(1).every((c) => c.op === 'UPDATE')).toBe(true);
      for (let i = 1; i < list.length; i++) expect(list[i]?.before).toEqual(list[i - 1]?.after);
      expect(list.at(-1)?.after?.status).toBe(row.status);
      const commits = list.map((c) => c.source.commitLsn);
      expect(commits).toEqual([...commits].sort((a, b) => a - b));
    }
  });
});
