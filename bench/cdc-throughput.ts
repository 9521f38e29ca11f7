// CDC source throughput and latency: M transactions of K inserts committed into a fresh
// `shipments` table, measured from the first commit to the last record a consumer sees.
// Baseline (same run, same WAL): PostgreSQL decoding the same changes with pgoutput through
// pg_logical_slot_get_binary_changes, i.e. the ceiling of any pgoutput consumer. It is the
// fair "raw" reference because it isolates what the source adds on top of decoding (network,
// parsing, buffering, Avro, Kafka acks=all, confirmation); a plain Kafka producer would
// measure Kafka alone and say nothing about reading the WAL.
import { randomBytes } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import { createKafkaClient } from '../core/kafka-client.ts';
import { waitFor } from '../core/wait-for.ts';
import {
  PostgresCdcSource,
  resolveCdcSourceOptions,
} from '../connectors/sources/postgres-cdc/index.ts';
import {
  createShipmentsSchema,
  dropShipmentsSchema,
  inTransaction,
  insertShipments,
} from '../connectors/sources/postgres-cdc/shipment-fixtures.ts';
import type { ShipmentChange } from '../schemas/types.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { withBenchTopics } from './bench-topics.ts';

/** Defaults for scale 1: 2,000 changes, small enough for 2 shared cores. */
export const CDC_BENCH_DEFAULTS = { transactions: 80, changesPerTransaction: 25, partitions: 3 };

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function suffix(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

export const cdcThroughputBenchmark: Benchmark = {
  name: 'cdc-throughput',
  run: (ctx) =>
    withBenchTopics(ctx, 1, CDC_BENCH_DEFAULTS.partitions, ([topic]) => {
      if (topic === undefined) throw new Error('withBenchTopics gave no topic');
      return measure(ctx, topic);
    }),
};

async function measure(ctx: BenchContext, topic: string): Promise<BenchFigure[]> {
  const { config } = ctx;
  const log = ctx.log.child({ bench: 'cdc-throughput' });
  const transactions = Math.max(1, Math.round(CDC_BENCH_DEFAULTS.transactions * ctx.scale));
  const perTx = CDC_BENCH_DEFAULTS.changesPerTransaction;
  const total = transactions * perTx;
  const schema = `bench_cdc_${suffix()}`;
  const slot = `${schema}_slot`;
  const baselineSlot = `${schema}_raw`;
  const publication = `${schema}_pub`;

  const db = new pg.Client({ connectionString: config.postgres.url });
  await db.connect();
  const kafka = createKafkaClient(config, 'bench-cdc', log);
  const consumer = kafka.consumer({ groupId: `bench-cdc-${suffix()}`, maxWaitTimeInMs: 50 });
  const sourceOptions = resolveCdcSourceOptions({
    postgresUrl: config.postgres.url,
    schemaRegistryUrl: config.schemaRegistry.url,
    schema,
    slot,
    publication,
    topic,
    producer: {
      brokers: [...config.kafka.brokers],
      clientId: `${config.kafka.clientId}-bench-cdc`,
    },
  });
  const newSource = (): PostgresCdcSource =>
    new PostgresCdcSource(sourceOptions, {
      log: log.child({}, { level: 'warn' }),
      metricsRegistry: new Registry(),
    });
  let source = newSource();
  try {
    await createShipmentsSchema(db, schema);
    await source.start();

    const registry = new SchemaRegistry({ host: config.schemaRegistry.url });
    const latencies: number[] = [];
    let lastSeenAt = 0;
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }: { message: KafkaMessage }) => {
        const seenAt = Date.now();
        if (!message.value) return;
        const change = (await registry.decode(message.value)) as ShipmentChange;
        latencies.push(seenAt - change.commitTime);
        lastSeenAt = seenAt;
      },
    });
    await waitFor(() => joined, { timeoutMs: 60_000, description: 'the bench consumer to join' });

    const writeTransactions = async (phase: string): Promise<void> => {
      for (let t = 0; t < transactions; t++) {
        const ids = Array.from({ length: perTx }, (_, k) => `SHP-${phase}-${t}-${k}`);
        await inTransaction(db, () => insertShipments(db, schema, ids));
      }
    };
    const waitForRecords = (count: number): Promise<boolean> =>
      waitFor(
        () => {
          if (latencies.length < count) throw new Error(`${latencies.length} of ${count} records`);
          return true;
        },
        { timeoutMs: 300_000, description: `${count} CDC records on ${topic}` },
      );

    // Live: the source streams while the writer commits; latency and commit → Kafka rate.
    const firstCommitStart = Date.now();
    await writeTransactions('live');
    const writeMs = Date.now() - firstCommitStart;
    await waitForRecords(total);
    const liveSeconds = Math.max(1, lastSeenAt - firstCommitStart) / 1000;
    const liveLatencies = latencies.slice(0, total);

    // Backlog: the same work committed while the source is stopped, then caught up. This is
    // the source's own rate (the writer above is the bottleneck of the live figure).
    await source.stop();
    // The reference slot sees exactly the backlog's WAL.
    await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [baselineSlot]);
    await writeTransactions('backlog');
    source = newSource();
    const restartAt = Date.now();
    await source.start();
    await waitForRecords(2 * total);
    const catchUpSeconds = Math.max(1, lastSeenAt - restartAt) / 1000;

    const rawStart = performance.now();
    const raw = await db.query<{ changes: string }>(
      `SELECT count(*) FILTER (WHERE get_byte(data, 0) IN (73, 85, 68))::text AS changes
           FROM pg_logical_slot_get_binary_changes($1, NULL, NULL,
                'proto_version', '1', 'publication_names', $2)`,
      [baselineSlot, publication],
    );
    const rawSeconds = (performance.now() - rawStart) / 1000;
    const rawChanges = Number(raw.rows[0]?.changes ?? 0);

    const sorted = [...liveLatencies].sort((a, b) => a - b);
    const notes = `${transactions} tx × ${perTx} inserts (${total} changes, ~330 B Avro each), ${CDC_BENCH_DEFAULTS.partitions} partitions, idempotent producer acks=all, PostgreSQL confirmed after each Kafka ack`;
    log.info(
      { total, liveSeconds, catchUpSeconds, rawChanges, rawSeconds, writeMs },
      'cdc benchmark measured',
    );
    return [
      {
        name: 'CDC source catch-up (backlog → Kafka)',
        value: total / catchUpSeconds,
        unit: 'changes/s',
        baseline: {
          name: 'pgoutput decode of the same backlog (pg_logical_slot_get_binary_changes)',
          value: rawChanges / Math.max(rawSeconds, 1e-6),
        },
        notes: `${notes}; from source start to the last record seen by a consumer; baseline decoded ${rawChanges} changes`,
      },
      {
        name: 'CDC live: first commit → last record in Kafka',
        value: total / liveSeconds,
        unit: 'changes/s',
        notes: `${notes}; bounded by the single writer, whose commits alone took ${writeMs} ms`,
      },
      {
        name: 'CDC latency commit → consumer p50',
        value: percentile(sorted, 50),
        unit: 'ms',
        notes,
      },
      {
        name: 'CDC latency commit → consumer p99',
        value: percentile(sorted, 99),
        unit: 'ms',
        notes,
      },
    ];
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await source.stop();
    await waitFor(
      async () => {
        await db.query(
          'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ANY($1)',
          [[slot, baselineSlot]],
        );
        return true;
      },
      { timeoutMs: 30_000, description: `dropping slots of ${schema}` },
    ).catch((err: unknown) => log.warn({ err }, 'slot cleanup failed'));
    await db.query(`DROP PUBLICATION IF EXISTS ${publication}`).catch(() => undefined);
    await dropShipmentsSchema(db, schema).catch(() => undefined);
    for (const query of ['', '?permanent=true']) {
      await fetch(
        `${config.schemaRegistry.url}/subjects/${encodeURIComponent(`${topic}-value`)}${query}`,
        {
          method: 'DELETE',
        },
      ).catch(() => undefined);
    }
    await db.end();
  }
}
