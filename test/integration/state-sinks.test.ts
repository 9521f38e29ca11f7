// shipment.state → Redis and PostgreSQL through the sink runner, on the real broker, registry,
// Redis and PostgreSQL: each store ends with exactly the newest version of every shipment
// whatever the order, duplicates and replays; the GEO index holds only shipments on the way;
// undecodable records go to the DLQ.
import { createServer } from 'node:net';
import type { Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { SinkWriteError } from '../../core/errors.ts';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { createLogger } from '../../core/logger.ts';
import { dlqTopic } from '../../core/topics.ts';
import { waitFor } from '../../core/wait-for.ts';
import { ShipmentStatePostgresSink } from '../../connectors/sinks/postgres/shipment-state-postgres-sink.ts';
import { rowToShipmentState } from '../../connectors/sinks/postgres/shipment-state-sql.ts';
import {
  shipmentHashKey,
  shipmentStateKeys,
  statusSetKey,
} from '../../connectors/sinks/redis/shipment-state-hash.ts';
import {
  getShipmentState,
  shipmentsNear,
} from '../../connectors/sinks/redis/shipment-state-reader.ts';
import { ShipmentStateRedisSink } from '../../connectors/sinks/redis/shipment-state-redis-sink.ts';
import type { Sink } from '../../connectors/sinks/sink.ts';
import { SinkRunner } from '../../connectors/sinks/sink-runner.ts';
import { createSchemaRegistry, registerValueSchema } from '../../schemas/event-schemas.ts';
import {
  SHIPMENT_STATUSES,
  type ShipmentStatus,
  type UnifiedShipmentState,
} from '../../schemas/types.ts';
import {
  countRecords,
  createKafka,
  createTestTopic,
  deleteTestTopics,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { deleteTestSubjects } from '../support/registry.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const T0 = 1_790_000_000_000;
const BERLIN = { lon: 13.405, lat: 52.52 };
const MUNICH = { lon: 11.575, lat: 48.137 };

// Five kinds of shipment, by index modulo 5, each with its own history of versions.
type Kind = 'berlin' | 'delivered' | 'cancelled' | 'munich' | 'bare';
const KINDS: readonly Kind[] = ['berlin', 'delivered', 'cancelled', 'munich', 'bare'];
const VERSIONS: Record<Kind, number> = {
  berlin: 3,
  delivered: 3,
  cancelled: 2,
  munich: 3,
  bare: 1,
};
const SHIPMENTS = 40;

function kindOf(i: number): Kind {
  return KINDS[i % KINDS.length] ?? 'bare';
}

function statusOf(kind: Kind, version: number, last: boolean): ShipmentStatus {
  if (kind === 'bare') return 'CREATED';
  if (kind === 'cancelled') return last ? 'CANCELLED' : 'CREATED';
  if (kind === 'delivered' && last) return 'DELIVERED';
  return version === 1 ? 'PICKED_UP' : 'IN_TRANSIT';
}

/** Version `version` of shipment `i`: every field depends on the version, so any mix-up shows. */
function stateOf(i: number, version: number): UnifiedShipmentState {
  const kind = kindOf(i);
  const last = version === VERSIONS[kind];
  const shipmentId = `SHP-${String(i).padStart(6, '0')}`;
  const t = T0 + i * 1_000 + version * 60_000;
  const base: UnifiedShipmentState = {
    shipmentId,
    customerId: `CUS-${i % 7}`,
    originId: 'DEPOT-1',
    destinationId: `CITY-${i % 3}`,
    status: statusOf(kind, version, last),
    promisedAt: T0 + 86_400_000 + i,
    createdAt: T0 + i,
    updatedAt: t,
    vehicleId: null,
    lat: null,
    lon: null,
    positionTime: null,
    speedKmh: null,
    fuelPct: null,
    engineTempC: null,
    distanceTravelledKm: 0,
    distanceRemainingKm: 25.5 + i,
    predictedArrival: null,
    predictionLow: null,
    predictionHigh: null,
    modelVersion: null,
    version,
    sourceOffsets: { 'shipments.cdc-0': i * 10 + version },
    sourceLsn: version === 1 ? 0 : 1_000_000 + i * 100 + version,
    stateUpdatedAt: t + 250,
  };
  if (kind === 'bare' || kind === 'cancelled') return base;
  // Near Berlin (delivered ones too: the GEO index must drop them anyway) or near Munich.
  const centre = kind === 'munich' ? MUNICH : BERLIN;
  return {
    ...base,
    vehicleId: `VEH-${i}`,
    lat: centre.lat + (i % 10) * 0.01 + version * 0.001,
    lon: centre.lon - (i % 10) * 0.01 + version * 0.0001,
    positionTime: t - 500,
    speedKmh: 30 + version * 0.1 + i / 3,
    fuelPct: 80 - version * 1.5,
    engineTempC: 88.25 + version,
    distanceTravelledKm: version * 2.345,
    distanceRemainingKm: 25.5 + i - version * 2.345,
    predictedArrival: version >= 2 ? t + 3_600_000 : null,
    predictionLow: version >= 2 ? t + 3_000_000 : null,
    predictionHigh: version >= 2 ? t + 4_200_000 : null,
    modelVersion: version >= 2 ? 'baseline-v1' : null,
    sourceOffsets: { 'shipments.cdc-0': i * 10 + version, 'telemetry.clean-0': i * 100 + version },
  };
}

/** The records in topic order per shipment: out of order (v3 before v2) and a duplicate of the newest. */
function historyOf(i: number): UnifiedShipmentState[] {
  const n = VERSIONS[kindOf(i)];
  const order = n === 3 ? [1, 3, 2, 3] : n === 2 ? [2, 1, 2] : [1, 1];
  return order.map((v) => stateOf(i, v));
}

/** Computed from the produced records alone: the highest version per shipment. */
function newestOf(states: readonly UnifiedShipmentState[]): Map<string, UnifiedShipmentState> {
  const newest = new Map<string, UnifiedShipmentState>();
  for (const s of states) {
    const held = newest.get(s.shipmentId);
    if (!held || s.version > held.version) newest.set(s.shipmentId, s);
  }
  return newest;
}

async function writtenBy(registry: Registry, sink: string): Promise<number> {
  const metric = await registry.getSingleMetric('continuum_sink_records_written_total')?.get();
  return metric?.values.find((v) => v.labels.sink === sink)?.value ?? 0;
}

async function readBy(registry: Registry, sink: string): Promise<number> {
  const metric = await registry.getSingleMetric('continuum_sink_records_in_total')?.get();
  return metric?.values.find((v) => v.labels.sink === sink)?.value ?? 0;
}

describe('shipment-state sinks (Redis and PostgreSQL)', () => {
  let kafka: Kafka;
  let redis: Redis;
  let pool: pg.Pool;
  let topic: string;
  const namespace = `${uniqueName('test', ':')}:`;
  const keys = shipmentStateKeys(namespace);
  const schema = uniqueName('test_state', '_');
  const registry = createSchemaRegistry(config);
  const groups: string[] = [];
  const runners: SinkRunner<UnifiedShipmentState>[] = [];
  const produced = Array.from({ length: SHIPMENTS }, (_, i) => historyOf(i)).flat();
  const expected = newestOf(produced);
  const poison = Buffer.from('{"shipmentId": "SHP-POISON", "not": "avro"}');

  beforeAll(async () => {
    kafka = createKafka(config, 'state-sinks');
    topic = await createTestTopic(kafka, { partitions: 3 });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: dlqTopic(topic), numPartitions: 1 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    pool = new pg.Pool({ connectionString: config.postgres.url, max: 4 });
  });

  afterAll(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    const stored = await redis.keys(`${namespace}*`);
    if (stored.length > 0) await redis.del(...stored);
    if (redis.status === 'ready') await redis.quit();
    else redis.disconnect();
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
    await deleteTestTopics(kafka, [topic, dlqTopic(topic)]);
    await deleteTestSubjects(config, [topic]);
  });

  function redisSink(): ShipmentStateRedisSink {
    return new ShipmentStateRedisSink(redis, { keys });
  }

  async function postgresSink(): Promise<ShipmentStatePostgresSink> {
    const sink = new ShipmentStatePostgresSink(pool, { schema });
    await sink.ensureTable();
    return sink;
  }

  async function startRunner(
    sink: Sink<UnifiedShipmentState>,
    metricsRegistry: Registry,
  ): Promise<{ runner: SinkRunner<UnifiedShipmentState>; groupId: string }> {
    const groupId = uniqueName(`test-sink-${sink.name}`);
    groups.push(groupId);
    const runner = new SinkRunner<UnifiedShipmentState>({
      kafka,
      topic,
      groupId,
      sink,
      decode: async (bytes) => (await registry.decode(bytes)) as UnifiedShipmentState,
      log,
      metricsRegistry,
    });
    runners.push(runner);
    await runner.start();
    return { runner, groupId };
  }

  async function stopAll(): Promise<void> {
    for (const r of runners.splice(0)) await r.stop();
  }

  /** True once the group has committed every partition up to its end: all read and flushed. */
  async function caughtUp(groupId: string): Promise<boolean> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
      return ends.every((e) => byPartition.get(e.partition) === e.high);
    } finally {
      await admin.disconnect();
    }
  }

  async function expectRedisHoldsExactlyTheNewest(): Promise<void> {
    // Nothing but the expected hashes, the GEO index and the status sets under the namespace.
    const stored = (await redis.keys(`${keys.hashPrefix}*`)).sort();
    expect(stored).toEqual([...expected.keys()].map((id) => shipmentHashKey(keys, id)).sort());
    for (const [id, state] of expected)
      expect(await getShipmentState(redis, id, keys)).toEqual(state);
    for (const status of SHIPMENT_STATUSES) {
      const members = (await redis.smembers(statusSetKey(keys, status))).sort();
      const want = [...expected.values()]
        .filter((s) => s.status === status)
        .map((s) => s.shipmentId);
      expect({ status, members }).toEqual({ status, members: want.sort() });
    }
    const onTheWay = (centre: { lon: number; lat: number }): string[] =>
      [...expected.values()]
        .filter(
          (s) =>
            s.lat !== null &&
            s.status !== 'DELIVERED' &&
            s.status !== 'CANCELLED' &&
            Math.abs(s.lat - centre.lat) < 1,
        )
        .map((s) => s.shipmentId)
        .sort();
    const nearBerlin = await shipmentsNear(redis, BERLIN.lon, BERLIN.lat, 50, 100, keys);
    expect(nearBerlin.map((n) => n.shipmentId).sort()).toEqual(onTheWay(BERLIN));
    expect(onTheWay(BERLIN).length).toBeGreaterThan(0);
    for (const n of nearBerlin) {
      expect(n.state).toEqual(expected.get(n.shipmentId));
      expect(n.distanceKm).toBeLessThan(50);
    }
    // Nearest first.
    const distances = nearBerlin.map((n) => n.distanceKm);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    const nearMunich = await shipmentsNear(redis, MUNICH.lon, MUNICH.lat, 50, 100, keys);
    expect(nearMunich.map((n) => n.shipmentId).sort()).toEqual(onTheWay(MUNICH));
    // The delivered ones drove near Berlin but are out of the index; so is everything else.
    const indexed = (await redis.zrange(keys.geoKey, 0, -1)).sort();
    expect(indexed).toEqual([...onTheWay(BERLIN), ...onTheWay(MUNICH)].sort());
    const delivered = [...expected.values()].filter((s) => s.status === 'DELIVERED');
    expect(delivered.length).toBeGreaterThan(0);
    for (const s of delivered) expect(indexed).not.toContain(s.shipmentId);
  }

  async function expectPostgresHoldsExactlyTheNewest(): Promise<void> {
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT * FROM ${schema}.shipment_state ORDER BY shipment_id`,
    );
    const stored = new Map(rows.map((r) => [String(r.shipment_id), rowToShipmentState(r)]));
    expect(stored).toEqual(expected);
  }

  it('stores the newest version of every shipment, dead-letters poison, and replays idempotently', async () => {
    const schemaId = await registerValueSchema(registry, topic, 'UnifiedShipmentState');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Shipment by shipment in one partition each (key = id), so "v3 before v2" holds in the log.
    for (const state of produced) {
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: state.shipmentId, value: await registry.encode(schemaId, state) }],
      });
    }
    await producer.send({ topic, acks: -1, messages: [{ key: 'SHP-POISON', value: poison }] });
    await producer.disconnect();
    expect(await countRecords(kafka, topic)).toBe(produced.length + 1);

    const firstMetrics = new Registry();
    const redisRun = await startRunner(redisSink(), firstMetrics);
    const postgresRun = await startRunner(await postgresSink(), firstMetrics);
    await waitFor(
      async () => (await caughtUp(redisRun.groupId)) && (await caughtUp(postgresRun.groupId)),
      {
        timeoutMs: 60_000,
        description: 'both sinks committed the whole topic',
      },
    );
    expect(redisRun.runner.error).toBeUndefined();
    expect(postgresRun.runner.error).toBeUndefined();
    await expectRedisHoldsExactlyTheNewest();
    await expectPostgresHoldsExactlyTheNewest();

    // Each runner dead-letters the poison record once, with its bytes and who rejected it.
    const letters = await waitForMessages(kafka, dlqTopic(topic), { count: 2 });
    expect(letters).toHaveLength(2);
    expect(letters.map((l) => l.headers?.[DLQ_HEADERS.processor]?.toString()).sort()).toEqual([
      'sink.postgres',
      'sink.redis',
    ]);
    for (const letter of letters) {
      expect(letter.value).toEqual(poison);
      expect(letter.key?.toString()).toBe('SHP-POISON');
      expect(letter.headers?.[DLQ_HEADERS.stage]?.toString()).toBe('decode');
      expect(letter.headers?.[DLQ_HEADERS.errorClass]?.toString()).toBe('DecodeError');
    }
    await stopAll();

    // Replay: new groups read everything again and write nothing, since no version is newer.
    const replayMetrics = new Registry();
    const redisReplay = await startRunner(redisSink(), replayMetrics);
    const postgresReplay = await startRunner(await postgresSink(), replayMetrics);
    await waitFor(
      async () => (await caughtUp(redisReplay.groupId)) && (await caughtUp(postgresReplay.groupId)),
      { timeoutMs: 60_000, description: 'both replaying sinks committed the whole topic' },
    );
    expect(redisReplay.runner.error).toBeUndefined();
    expect(postgresReplay.runner.error).toBeUndefined();
    expect(await readBy(replayMetrics, 'redis')).toBe(produced.length + 1);
    expect(await readBy(replayMetrics, 'postgres')).toBe(produced.length + 1);
    expect(await writtenBy(replayMetrics, 'redis')).toBe(0);
    expect(await writtenBy(replayMetrics, 'postgres')).toBe(0);
    await expectRedisHoldsExactlyTheNewest();
    await expectPostgresHoldsExactlyTheNewest();
    // The replayed poison is dead-lettered again, once per runner.
    expect(await countRecords(kafka, dlqTopic(topic))).toBe(4);
    await stopAll();
  });

  it('lets only a higher version replace what an earlier flush stored', async () => {
    const id = 'SHP-ORDER-1';
    // Index 1 is a "delivered" shipment: v2 is on the way near Berlin, v3 delivered.
    const version = (v: number): UnifiedShipmentState => ({ ...stateOf(1, v), shipmentId: id });
    const record = (v: number) => ({
      topic: 'direct',
      partition: 0,
      offset: String(v),
      key: id,
      value: version(v),
      timestamp: T0,
    });
    const sinks = [redisSink(), await postgresSink()];
    const read = async (): Promise<[UnifiedShipmentState | null, UnifiedShipmentState | null]> => {
      const { rows } = await pool.query<Record<string, unknown>>(
        `SELECT * FROM ${schema}.shipment_state WHERE shipment_id = $1`,
        [id],
      );
      return [
        await getShipmentState(redis, id, keys),
        rows[0] ? rowToShipmentState(rows[0]) : null,
      ];
    };
    const flushEach = async (v: number): Promise<number[]> => {
      const written = [];
      for (const sink of sinks) {
        sink.add(record(v));
        written.push((await sink.flush()).written);
      }
      return written;
    };

    expect(await flushEach(2)).toEqual([1, 1]);
    expect(await read()).toEqual([version(2), version(2)]);
    expect(await redis.zscore(keys.geoKey, id)).not.toBeNull();
    expect(await flushEach(1)).toEqual([0, 0]); // older
    expect(await flushEach(2)).toEqual([0, 0]); // the same again
    expect(await read()).toEqual([version(2), version(2)]);
    expect(await flushEach(3)).toEqual([1, 1]); // newer: delivered
    expect(await read()).toEqual([version(3), version(3)]);
    expect(await redis.zscore(keys.geoKey, id)).toBeNull();
    expect(await redis.sismember(statusSetKey(keys, 'IN_TRANSIT'), id)).toBe(0);
    expect(await redis.sismember(statusSetKey(keys, 'DELIVERED'), id)).toBe(1);
    for (const sink of sinks) await sink.close();
  });

  it('fails a flush as retriable when the store is unreachable and as final when it rejects the data', async () => {
    const record = (state: UnifiedShipmentState) => ({
      topic: 'direct',
      partition: 0,
      offset: '0',
      key: state.shipmentId,
      value: state,
      timestamp: T0,
    });
    const flushError = async (sink: Sink<UnifiedShipmentState>): Promise<SinkWriteError> => {
      const err: unknown = await sink.flush().then(
        () => new Error('flush succeeded'),
        (e: unknown) => e,
      );
      if (!(err instanceof SinkWriteError)) throw err;
      return err;
    };

    // A port nobody listens on: taken from the OS, then released.
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const offline = new Redis({
      port: closedPort,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const unreachableRedis = new ShipmentStateRedisSink(offline, { keys });
    unreachableRedis.add(record(stateOf(0, 1)));
    expect((await flushError(unreachableRedis)).retriable).toBe(true);
    offline.disconnect();
    const offlinePool = new pg.Pool({ host: '127.0.0.1', port: closedPort, user: 'continuum' });
    const unreachablePostgres = new ShipmentStatePostgresSink(offlinePool, { schema });
    unreachablePostgres.add(record(stateOf(0, 1)));
    expect((await flushError(unreachablePostgres)).retriable).toBe(true);
    await offlinePool.end();

    // The table's CHECK rejects an unknown status: retrying cannot help.
    const postgres = await postgresSink();
    postgres.add(record({ ...stateOf(0, 9), status: 'LOST' as ShipmentStatus }));
    const rejected = await flushError(postgres);
    expect(rejected.retriable).toBe(false);
    expect((rejected.cause as { code?: string }).code).toBe('23514');
    // A key of the wrong type where the shipment's hash belongs: Redis refuses, for good.
    const clash = { ...stateOf(0, 9), shipmentId: 'SHP-CLASH' };
    await redis.set(shipmentHashKey(keys, clash.shipmentId), 'not a hash');
    const clashing = redisSink();
    clashing.add(record(clash));
    expect((await flushError(clashing)).retriable).toBe(false);
    expect(await redis.get(shipmentHashKey(keys, clash.shipmentId))).toBe('not a hash');
  });
});
