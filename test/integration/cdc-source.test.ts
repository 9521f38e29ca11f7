// The PostgreSQL CDC source against the real stack: initial snapshot, committed changes exactly
// once in commit order, recovery after SIGKILL with duplicates only in the crash window (and
// all of them detected by isDuplicateChange), and heartbeats that advance an idle slot.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { repoRoot } from '../../core/paths.ts';
import { waitFor } from '../../core/wait-for.ts';
import {
  PostgresCdcSource,
  isDuplicateChange,
  lsnToNumber,
  resolveCdcSourceOptions,
  type ChangeMark,
  type CdcSourceOptions,
} from '../../connectors/sources/postgres-cdc/index.ts';
import {
  advanceShipment,
  createShipmentsSchema,
  dropShipmentsSchema,
  inTransaction,
  insertShipment,
  insertShipments,
} from '../../connectors/sources/postgres-cdc/shipment-fixtures.ts';
import type { ShipmentChange } from '../../schemas/types.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const TIMEOUT_MS = 180_000;
const log = createLogger('silent');

interface Fixture {
  schema: string;
  slot: string;
  publication: string;
  topic: string;
  options: CdcSourceOptions;
}

interface Received {
  partition: number;
  offset: number;
  key: string;
  change: ShipmentChange;
}

async function deleteSubject(subject: string): Promise<void> {
  for (const query of ['', '?permanent=true']) {
    await fetch(`${config.schemaRegistry.url}/subjects/${encodeURIComponent(subject)}${query}`, {
      method: 'DELETE',
    });
  }
}

/** Every record of the topic, decoded with nothing but the registry URL, in partition order. */
async function readTopicToEnd(kafka: Kafka, topic: string): Promise<Received[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  const raw: { partition: number; message: KafkaMessage }[] = [];
  if (total > 0) {
    const groupId = uniqueName('test-cdc-read');
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: ({ partition, message }) => {
          raw.push({ partition, message });
          return Promise.resolve();
        },
      });
      await waitFor(
        () => {
          if (raw.length < total) throw new Error(`${raw.length} of ${total} records read`);
          return true;
        },
        { timeoutMs: 60_000, description: `all ${total} records of ${topic}` },
      );
    } finally {
      await consumer.disconnect();
      const groups = kafka.admin();
      await groups.connect();
      await groups.deleteGroups([groupId]).catch(() => undefined);
      await groups.disconnect();
    }
  }
  const registry = new SchemaRegistry({ host: config.schemaRegistry.url });
  const decoded: Received[] = [];
  for (const { partition, message } of raw) {
    if (!message.value || !message.key) throw new Error('record without key or value');
    decoded.push({
      partition,
      offset: Number(message.offset),
      key: message.key.toString('utf8'),
      change: (await registry.decode(message.value)) as ShipmentChange,
    });
  }
  return decoded.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

async function currentWalLsn(db: pg.Client): Promise<string> {
  const result = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  return result.rows[0]?.lsn ?? '0/0';
}

async function confirmedLsn(db: pg.Client, slot: string): Promise<string | undefined> {
  const result = await db.query<{ lsn: string | null }>(
    'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  return result.rows[0]?.lsn ?? undefined;
}

/** Waits until the slot confirmed `lsn`: then every change committed before it is in Kafka. */
async function waitForConfirmed(db: pg.Client, slot: string, lsn: string): Promise<void> {
  await waitFor(
    async () => {
      const confirmed = await confirmedLsn(db, slot);
      if (confirmed === undefined) return false;
      if (lsnToNumber(confirmed) < lsnToNumber(lsn)) throw new Error(`confirmed ${confirmed}`);
      return true;
    },
    { timeoutMs: 90_000, description: `slot ${slot} to confirm ${lsn}` },
  );
}

async function waitForSlotActive(db: pg.Client, slot: string, active: boolean): Promise<void> {
  await waitFor(
    async () => {
      const result = await db.query<{ active: boolean }>(
        'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      );
      return result.rows[0]?.active === active;
    },
    { timeoutMs: 90_000, description: `slot ${slot} active=${active}` },
  );
}

/** Per shipment, the changeSeq of `after` (or `before` for DELETE) in the order received. */
function seqsByShipment(records: readonly Received[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { key, change } of records) {
    const seq = (change.after ?? change.before)?.changeSeq ?? -1;
    out.set(key, [...(out.get(key) ?? []), seq]);
  }
  return out;
}

describe('PostgreSQL CDC source', () => {
  let db: pg.Client;
  let kafka: Kafka;
  const fixtures: Fixture[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    db = new pg.Client({ connectionString: config.postgres.url });
    await db.connect();
    kafka = createKafka(config, 'cdc');
  }, TIMEOUT_MS);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    for (const f of fixtures) {
      // The walsender lets go of the slot a moment after its connection closes.
      await waitFor(
        async () => {
          await db.query(
            'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
            [f.slot],
          );
          return true;
        },
        { timeoutMs: 30_000, description: `dropping slot ${f.slot}` },
      );
      await db.query(`DROP PUBLICATION IF EXISTS ${f.publication}`);
      await dropShipmentsSchema(db, f.schema);
      await deleteSubject(`${f.topic}-value`);
    }
    await deleteTestTopics(
      kafka,
      fixtures.map((f) => f.topic),
    );
    await db.end();
  }, TIMEOUT_MS);

  /** A topic, names and options for one source; the schema and table made unless `table` is false. */
  async function fixture(heartbeatIntervalMs = 1_000, table = true): Promise<Fixture> {
    const schema = uniqueName('cdc', '_');
    const topic = await createTestTopic(kafka, { partitions: 3 });
    const f: Fixture = {
      schema,
      slot: `${schema}_slot`,
      publication: `${schema}_pub`,
      topic,
      options: resolveCdcSourceOptions({
        postgresUrl: config.postgres.url,
        schemaRegistryUrl: config.schemaRegistry.url,
        schema,
        slot: `${schema}_slot`,
        publication: `${schema}_pub`,
        topic,
        heartbeatIntervalMs,
        lagPollIntervalMs: 500,
        producer: {
          brokers: [...config.kafka.brokers],
          clientId: `${config.kafka.clientId}-test-cdc`,
        },
      }),
    };
    fixtures.push(f);
    if (table) await createShipmentsSchema(db, schema);
    return f;
  }

  function startInProcess(f: Fixture, registry = new Registry()): PostgresCdcSource {
    const source = new PostgresCdcSource(f.options, { log, metricsRegistry: registry });
    cleanups.push(() => source.stop());
    return source;
  }

  test(
    'rows present before the start arrive as SNAPSHOT; later commits arrive exactly once, in commit order',
    async () => {
      const f = await fixture();
      const preexisting = ['SHP-PRE-1', 'SHP-PRE-2', 'SHP-PRE-3'];
      for (const id of preexisting) await insertShipment(db, f.schema, id);
      await advanceShipment(db, f.schema, 'SHP-PRE-2');

      const metrics = new Registry();
      const source = startInProcess(f, metrics);
      await source.start();

      const shipments = Array.from({ length: 8 }, (_, i) => `SHP-${i}`);
      // Two shipments created per transaction, then three rounds of status updates, each round
      // one transaction touching every shipment: changes of several shipments interleave.
      for (let i = 0; i < shipments.length; i += 2) {
        await inTransaction(db, async () => {
          await insertShipment(db, f.schema, shipments[i] ?? '');
          await insertShipment(db, f.schema, shipments[i + 1] ?? '');
        });
      }
      for (let round = 0; round < 3; round++) {
        await inTransaction(db, async () => {
          for (const id of round % 2 ? [...shipments].reverse() : shipments)
            await advanceShipment(db, f.schema, id);
        });
      }
      // Rolled back: must never reach Kafka.
      await db.query('BEGIN');
      await advanceShipment(db, f.schema, 'SHP-0');
      await db.query('ROLLBACK');
      await inTransaction(db, () =>
        db.query(`DELETE FROM ${f.schema}.shipments WHERE shipment_id = 'SHP-PRE-3'`),
      );
      await waitForConfirmed(db, f.slot, await currentWalLsn(db));

      const records = await readTopicToEnd(kafka, f.topic);
      const snapshot = records.filter((r) => r.change.op === 'SNAPSHOT');
      expect(snapshot.map((r) => r.key).sort()).toEqual(preexisting);
      for (const r of snapshot) {
        expect(r.change.source).toMatchObject({
          snapshot: true,
          lsn: 0,
          table: `${f.schema}.shipments`,
        });
        expect(r.change.before).toBeNull();
      }
      expect(snapshot.find((r) => r.key === 'SHP-PRE-2')?.change.after).toMatchObject({
        status: 'ASSIGNED',
        changeSeq: 2,
      });

      const streamed = records.filter((r) => r.change.op !== 'SNAPSHOT');
      expect(streamed).toHaveLength(shipments.length * 4 + 1);
      // Exactly once: no two records share a WAL position.
      const positions = new Set(
        streamed.map((r) => `${r.change.source.commitLsn}:${r.change.source.lsn}`),
      );
      expect(positions.size).toBe(streamed.length);

      const bySeq = seqsByShipment(streamed);
      for (const id of shipments) expect(bySeq.get(id)).toEqual([1, 2, 3, 4]);
      expect(bySeq.get('SHP-PRE-3')).toEqual([1]);

      for (const id of shipments) {
        const changes = streamed.filter((r) => r.key === id).map((r) => r.change);
        expect(changes.map((c) => c.op)).toEqual(['INSERT', 'UPDATE', 'UPDATE', 'UPDATE']);
        expect(changes[0]?.before).toBeNull();
        expect(changes.map((c) => c.after?.status)).toEqual([
          'CREATED',
          'ASSIGNED',
          'PICKED_UP',
          'IN_TRANSIT',
        ]);
        for (let i = 1; i < changes.length; i++) {
          const [prev, cur] = [changes[i - 1], changes[i]];
          // before of each update is exactly the after of the change before it.
          expect(cur?.before).toEqual(prev?.after);
          expect(cur?.source.commitLsn).toBeGreaterThan(prev?.source.commitLsn ?? Infinity);
        }
        // Every record of a shipment is on one partition (key = shipment id).
        expect(new Set(streamed.filter((r) => r.key === id).map((r) => r.partition)).size).toBe(1);
      }
      const deleted = streamed.find((r) => r.change.op === 'DELETE');
      expect(deleted).toMatchObject({
        key: 'SHP-PRE-3',
        change: { after: null, before: { shipmentId: 'SHP-PRE-3' } },
      });
      // Snapshot records sort before every streamed change (consistent point < first commit).
      const consistentPoint = snapshot[0]?.change.source.commitLsn ?? Infinity;
      expect(Math.min(...streamed.map((r) => r.change.source.commitLsn))).toBeGreaterThan(
        consistentPoint,
      );

      const produced = await metrics.getSingleMetricAsString(
        'continuum_cdc_changes_produced_total',
      );
      expect(produced).toContain(`op="SNAPSHOT"} 3`);
      expect(produced).toContain(`op="INSERT"} 8`);
      expect(produced).toContain(`op="UPDATE"} 24`);
      expect(produced).toContain(`op="DELETE"} 1`);

      await source.stop();
      await waitForSlotActive(db, f.slot, false);
    },
    TIMEOUT_MS,
  );

  test(
    'SIGKILL mid-stream and restart: nothing lost, duplicates only in the crash window and all detected',
    async () => {
      const f = await fixture(500);
      const children: ChildProcess[] = [];
      cleanups.push(() => {
        for (const c of children)
          if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        return Promise.resolve();
      });
      const output: string[] = [];
      const spawnSource = (): ChildProcess => {
        const child = spawn(
          nodePath.join(repoRoot, 'node_modules/.bin/node'),
          [
            'connectors/sources/postgres-cdc/run.ts',
            ...[
              '--schema',
              f.schema,
              '--slot',
              f.slot,
              '--publication',
              f.publication,
              '--topic',
              f.topic,
            ],
            ...['--heartbeat-ms', '500'],
          ],
          {
            cwd: repoRoot,
            env: { ...process.env, CONTINUUM_LOG_LEVEL: 'warn' },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        children.push(child);
        return child;
      };

      // Started on an empty table: the snapshot is empty and every change is streamed.
      const first = spawnSource();
      await waitForSlotActive(db, f.slot, true);
      // The writer: one transaction after another, each creating a shipment or advancing one
      // (sometimes two), until told to stop. It runs across the crash.
      const writerDb = new pg.Client({ connectionString: config.postgres.url });
      await writerDb.connect();
      cleanups.push(() => writerDb.end());
      const created: string[] = [];
      let commits = 0;
      let stopWriting = false;
      const writer = (async () => {
        for (let i = 0; !stopWriting; i++) {
          await inTransaction(writerDb, async () => {
            if (i % 10 === 0) {
              // A bigger transaction: more time between Kafka's ack and the confirmation.
              const ids = Array.from(
                { length: 25 },
                (_, k) => `SHP-${String(created.length + k).padStart(4, '0')}`,
              );
              await insertShipments(writerDb, f.schema, ids);
              created.push(...ids);
            } else if (i % 3 === 0 || created.length < 2) {
              const id = `SHP-${String(created.length).padStart(4, '0')}`;
              await insertShipment(writerDb, f.schema, id);
              created.push(id);
            } else {
              await advanceShipment(writerDb, f.schema, created[i % created.length] ?? '');
              if (i % 4 === 0)
                await advanceShipment(writerDb, f.schema, created[(i + 1) % created.length] ?? '');
            }
          });
          commits += 1;
        }
      })();

      const startConfirmed = lsnToNumber((await confirmedLsn(db, f.slot)) ?? '0/0');
      // Mid-stream: the source has confirmed some transactions and the writer keeps going.
      await waitFor(
        async () =>
          lsnToNumber((await confirmedLsn(db, f.slot)) ?? '0/0') > startConfirmed && commits > 50,
        { timeoutMs: 60_000, description: 'the first source process to confirm some transactions' },
      );
      first.kill('SIGKILL');
      await once(first, 'exit');
      const confirmedAtCrash = lsnToNumber((await confirmedLsn(db, f.slot)) ?? '0/0');
      const walAtCrash = lsnToNumber(await currentWalLsn(db));

      const commitsAtCrash = commits;
      await waitFor(() => commits >= commitsAtCrash + 30, {
        timeoutMs: 60_000,
        description: 'writes while no source runs',
      });
      const second = spawnSource();
      await waitForSlotActive(db, f.slot, true);
      const commitsAtRestart = commits;
      await waitFor(() => commits >= commitsAtRestart + 30, {
        timeoutMs: 60_000,
        description: 'writes after the restart',
      });
      stopWriting = true;
      await writer;
      await waitForConfirmed(db, f.slot, await currentWalLsn(db));
      second.kill('SIGTERM');
      const [exitCode] = (await once(second, 'exit')) as [number | null];
      expect({ exitCode, output: exitCode === 0 ? '' : output.join('') }).toEqual({
        exitCode: 0,
        output: '',
      });

      const records = await readTopicToEnd(kafka, f.topic);
      // Nothing lost: every (shipment, change_seq) that PostgreSQL holds history for is in Kafka.
      const finalRows = await db.query<{ shipment_id: string; change_seq: string }>(
        `SELECT shipment_id, change_seq FROM ${f.schema}.shipments`,
      );
      const seen = new Set(records.map((r) => `${r.key}#${r.change.after?.changeSeq}`));
      const missing: string[] = [];
      for (const row of finalRows.rows) {
        for (let seq = 1; seq <= Number(row.change_seq); seq++) {
          if (!seen.has(`${row.shipment_id}#${seq}`)) missing.push(`${row.shipment_id}#${seq}`);
        }
      }
      expect(missing).toEqual([]);
      expect(finalRows.rows.length).toBe(created.length);

      // Duplicates: the same WAL position more than once.
      const copies = new Map<string, number>();
      for (const r of records) {
        const position = `${r.change.source.commitLsn}:${r.change.source.lsn}`;
        copies.set(position, (copies.get(position) ?? 0) + 1);
      }
      const duplicated = [...copies.entries()].filter(([, n]) => n > 1);
      // At most once per crash, and only transactions not yet confirmed when the process died.
      for (const [position, n] of duplicated) {
        expect(n).toBe(2);
        const commitLsn = Number(position.split(':')[0]);
        expect(commitLsn).toBeGreaterThan(confirmedAtCrash);
        expect(commitLsn).toBeLessThanOrEqual(walAtCrash);
      }

      // A consumer applying with isDuplicateChange sees each change exactly once, in order.
      const lastSeen = new Map<string, ChangeMark>();
      const applied = new Map<string, number[]>();
      let dropped = 0;
      for (const r of records) {
        if (isDuplicateChange(lastSeen.get(r.key), r.change)) {
          dropped += 1;
          continue;
        }
        lastSeen.set(r.key, r.change.source);
        applied.set(r.key, [...(applied.get(r.key) ?? []), r.change.after?.changeSeq ?? -1]);
      }
      expect(dropped).toBe(records.length - copies.size);
      for (const row of finalRows.rows) {
        const n = Number(row.change_seq);
        expect(applied.get(row.shipment_id)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      }
    },
    TIMEOUT_MS,
  );

  test(
    'started before the table exists, it creates table and slot before the first write: a burst right after start arrives whole',
    async () => {
      const f = await fixture(1_000, false);
      const source = startInProcess(f);
      await source.start();
      // What a seed at full speed does as soon as the platform is up: create and move shipments.
      const ids = Array.from({ length: 20 }, (_, i) => `SHP-BURST-${i}`);
      await insertShipments(db, f.schema, ids);
      for (let round = 0; round < 3; round++)
        for (const id of ids) await advanceShipment(db, f.schema, id);
      await waitForConfirmed(db, f.slot, await currentWalLsn(db));
      const records = await readTopicToEnd(kafka, f.topic);
      // Every change, none as a snapshot of where the rows had got to.
      expect(records.filter((r) => r.change.op === 'SNAPSHOT')).toEqual([]);
      const seqs = seqsByShipment(records);
      expect([...seqs.keys()].sort()).toEqual([...ids].sort());
      for (const id of ids) expect(seqs.get(id)).toEqual([1, 2, 3, 4]);
      await source.stop();
    },
    TIMEOUT_MS,
  );

  test(
    'a transaction larger than the in-memory limit is spilled to disk and arrives whole, in order, as one commit',
    async () => {
      const f = await fixture();
      const spillDirectory = await mkdtemp(nodePath.join(tmpdir(), 'cdc-spill-'));
      cleanups.push(() => rm(spillDirectory, { recursive: true, force: true }));
      const metrics = new Registry();
      const source = new PostgresCdcSource(
        resolveCdcSourceOptions({ ...f.options, spillAfterChanges: 200, spillDirectory }),
        { log, metricsRegistry: metrics },
      );
      cleanups.push(() => source.stop());
      await source.start();

      // One transaction of 3,000 inserts and 3,000 updates: 30 times the limit.
      const ids = Array.from({ length: 3_000 }, (_, i) => `SHP-BIG-${String(i).padStart(4, '0')}`);
      await inTransaction(db, async () => {
        await insertShipments(db, f.schema, ids);
        await db.query(
          `UPDATE ${f.schema}.shipments SET status = 'ASSIGNED', change_seq = 2, updated_at = now()`,
        );
      });
      await insertShipment(db, f.schema, 'SHP-AFTER');
      await waitForConfirmed(db, f.slot, await currentWalLsn(db));

      const records = await readTopicToEnd(kafka, f.topic);
      const big = records.filter((r) => r.key !== 'SHP-AFTER');
      expect(big).toHaveLength(6_000);
      // One commit: every change carries the same commit LSN, time and transaction id.
      expect(new Set(big.map((r) => r.change.source.commitLsn)).size).toBe(1);
      expect(new Set(big.map((r) => r.change.source.txId)).size).toBe(1);
      expect(new Set(big.map((r) => r.change.commitTime)).size).toBe(1);
      expect(new Set(big.map((r) => r.change.source.lsn)).size).toBe(6_000);
      const seqs = seqsByShipment(big);
      expect([...seqs.keys()].sort()).toEqual(ids);
      for (const id of ids) expect(seqs.get(id)).toEqual([1, 2]);
      const row = await db.query<{ promised_at: Date }>(
        `SELECT promised_at FROM ${f.schema}.shipments WHERE shipment_id = $1`,
        [ids[42]],
      );
      const update = big.find((r) => r.key === ids[42] && r.change.op === 'UPDATE');
      expect(update?.change.before?.status).toBe('CREATED');
      expect(update?.change.after).toMatchObject({
        status: 'ASSIGNED',
        changeSeq: 2,
        promisedAt: row.rows[0]?.promised_at.getTime(),
      });
      const after = records.find((r) => r.key === 'SHP-AFTER');
      expect(after?.change.source.commitLsn).toBeGreaterThan(big[0]?.change.source.commitLsn ?? 0);

      const spilled = await metrics.getSingleMetricAsString('continuum_cdc_spilled_changes_total');
      expect(Number(/} (\d+)/.exec(spilled)?.[1])).toBeGreaterThanOrEqual(5_800);
      expect(await readdir(spillDirectory)).toEqual([]);
      await source.stop();
    },
    TIMEOUT_MS,
  );

  test(
    'a slot left by a snapshot that never completed is dropped and the snapshot redone',
    async () => {
      const f = await fixture();
      for (const id of ['SHP-A', 'SHP-B']) await insertShipment(db, f.schema, id);
      // What a crash during the snapshot leaves behind: publication and slot, no completion mark.
      await db.query(`CREATE PUBLICATION ${f.publication} FOR TABLE ${f.schema}.shipments`);
      await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [f.slot]);

      const source = startInProcess(f);
      await source.start();
      await waitForConfirmed(db, f.slot, await currentWalLsn(db));
      const records = await readTopicToEnd(kafka, f.topic);
      expect(records.map((r) => [r.key, r.change.op]).sort()).toEqual([
        ['SHP-A', 'SNAPSHOT'],
        ['SHP-B', 'SNAPSHOT'],
      ]);
      await source.stop();
    },
    TIMEOUT_MS,
  );

  test(
    'Kafka refusing writes (topic missing): the source retries and delivers once the topic exists',
    async () => {
      const f = await fixture();
      // A topic name nobody created yet: the broker does not auto-create topics.
      const topic = uniqueName('test', '.');
      const options = resolveCdcSourceOptions({ ...f.options, topic, retryMaxMs: 2_000 });
      fixtures.push({ ...f, topic, options });
      const metrics = new Registry();
      const source = new PostgresCdcSource(options, { log, metricsRegistry: metrics });
      cleanups.push(() => source.stop());
      await source.start();
      await inTransaction(db, () => insertShipment(db, f.schema, 'SHP-RETRY'));

      const kafkaErrors = async (): Promise<number> => {
        const metric = await metrics.getSingleMetric('continuum_cdc_errors_total')?.get();
        return metric?.values.find((v) => v.labels.kind === 'kafka')?.value ?? 0;
      };
      await waitFor(async () => (await kafkaErrors()) >= 1, {
        timeoutMs: 120_000,
        description: 'a Kafka write failure counted',
      });
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      } finally {
        await admin.disconnect();
      }
      await waitForConfirmed(db, f.slot, await currentWalLsn(db));
      const records = await readTopicToEnd(kafka, topic);
      expect(records.map((r) => [r.key, r.change.op, r.change.after?.changeSeq])).toEqual([
        ['SHP-RETRY', 'INSERT', 1],
      ]);
      await source.stop();
    },
    TIMEOUT_MS,
  );

  test(
    'a table without REPLICA IDENTITY FULL stops the source at start with a non-retriable error',
    async () => {
      const f = await fixture();
      await db.query(`ALTER TABLE ${f.schema}.shipments REPLICA IDENTITY DEFAULT`);
      const source = startInProcess(f);
      await expect(source.start()).rejects.toMatchObject({
        code: 'CDC_POSTGRES_FAILED',
        retriable: false,
        context: { table: `${f.schema}.shipments` },
      });
      const slots = await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [
        f.slot,
      ]);
      expect(slots.rowCount).toBe(0);
    },
    TIMEOUT_MS,
  );

  test(
    'a TRUNCATE of shipments stops the source with the cause and the next step; what came before arrives, nothing after',
    async () => {
      const f = await fixture();
      const source = startInProcess(f);
      await source.start();
      await insertShipment(db, f.schema, 'SHP-T-1');
      await db.query(`TRUNCATE ${f.schema}.shipments`);
      await insertShipment(db, f.schema, 'SHP-T-2');
      await expect(source.done).rejects.toMatchObject({
        code: 'CDC_TRUNCATE',
        retriable: false,
        context: { table: `${f.schema}.shipments`, slot: f.slot },
      });
      await expect(source.done).rejects.toThrow(/pg_drop_replication_slot/);
      const records = await readTopicToEnd(kafka, f.topic);
      expect(records.map((r) => `${r.key} ${r.change.op}`)).toEqual(['SHP-T-1 INSERT']);
      // The slot stays before the TRUNCATE: a restart stops at it again, never past it.
      const confirmed = lsnToNumber((await confirmedLsn(db, f.slot)) ?? '0/0');
      const again = startInProcess(f);
      await again.start();
      await expect(again.done).rejects.toMatchObject({ code: 'CDC_TRUNCATE' });
      expect(lsnToNumber((await confirmedLsn(db, f.slot)) ?? '0/0')).toBe(confirmed);
      expect(await readTopicToEnd(kafka, f.topic)).toHaveLength(1);
    },
    TIMEOUT_MS,
  );

  test(
    'an idle database: heartbeats advance confirmed_flush_lsn without any shipment change',
    async () => {
      const f = await fixture(300);
      const metrics = new Registry();
      const source = startInProcess(f, metrics);
      await source.start();
      const before = await confirmedLsn(db, f.slot);
      if (before === undefined) throw new Error(`slot ${f.slot} missing`);
      // The server's position now, past the slot's: the slot must catch up to it with no
      // shipment change to carry it there, only heartbeats and keepalive confirmations.
      const target = await currentWalLsn(db);
      await waitFor(
        async () => {
          const confirmed = lsnToNumber((await confirmedLsn(db, f.slot)) ?? '0/0');
          return confirmed > lsnToNumber(before) && confirmed >= lsnToNumber(target);
        },
        { timeoutMs: 60_000, description: `confirmed_flush_lsn of ${f.slot} to pass ${target}` },
      );
      const acknowledged = await metrics.getSingleMetric('continuum_cdc_acknowledged_lsn')?.get();
      expect(acknowledged?.values[0]?.value).toBeGreaterThan(lsnToNumber(before));
      await source.stop();
      expect(await readTopicToEnd(kafka, f.topic)).toEqual([]);
    },
    TIMEOUT_MS,
  );

  test(
    'reports whether it streams (its /ready): not before the slot streams, not while it reconnects, again after',
    async () => {
      const f = await fixture();
      const source = startInProcess(f);
      expect(source.streaming).toBe(false);
      await source.start();
      expect(source.streaming).toBe(true);
      // The walsender killed: the session fails and is retried after a backoff (500 ms first).
      const killed = await db.query(
        'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
        [f.slot],
      );
      expect(killed.rowCount).toBe(1);
      await waitFor(() => !source.streaming, {
        timeoutMs: 30_000,
        intervalMs: 20,
        maxIntervalMs: 20,
        description: 'the source to report its session lost',
      });
      await waitFor(() => source.streaming, {
        timeoutMs: 60_000,
        description: 'the source to stream again',
      });
      await insertShipment(db, f.schema, 'SHP-AFTER-RECONNECT');
      await waitForConfirmed(db, f.slot, await currentWalLsn(db));
      expect((await readTopicToEnd(kafka, f.topic)).map((r) => r.key)).toEqual([
        'SHP-AFTER-RECONNECT',
      ]);
      await source.stop();
      expect(source.streaming).toBe(false);
    },
    TIMEOUT_MS,
  );
});
