// telemetry → MongoDB through the sink runner, on the real broker, registry and FerretDB:
// readings stored in buckets per vehicle, each once in what the history reader answers (a replay
// cut at other flush boundaries stores some twice; the reader dedupes), undecodable records in
// the DLQ with their original bytes and why, offsets committed after the writes.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { createLogger } from '../../core/logger.ts';
import { dlqTopic } from '../../core/topics.ts';
import { waitFor } from '../../core/wait-for.ts';
import { mongoTelemetryHistory } from '../../api/adapters/mongo-telemetry-history.ts';
import type { TelemetryReading } from '../../api/ports.ts';
import type { TelemetryBucket } from '../../connectors/sinks/mongodb/telemetry-buckets.ts';
import { TelemetryHistorySink } from '../../connectors/sinks/mongodb/telemetry-history-sink.ts';
import { SinkRunner } from '../../connectors/sinks/sink-runner.ts';
import { TelemetryProducer } from '../../connectors/telemetry-sdk/telemetry-producer.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
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

function reading(vehicle: number, seq: number): VehicleTelemetry {
  return {
    eventId: `ev-${vehicle}-${seq}`,
    vehicleId: `VEH-${vehicle}`,
    eventTime: T0 + seq * 10_000,
    lat: 48.1 + seq / 1000,
    lon: 11.5,
    speed: 60,
    speedUnit: 'KMH',
    headingDeg: 90,
    fuelPct: 70,
    engineTemp: 90,
    temperatureUnit: 'CELSIUS',
    odometerKm: 1_000 + seq,
  };
}

describe('MongoDB telemetry sink', () => {
  let kafka: Kafka;
  let mongo: MongoClient;
  let db: Db;
  let topic: string;
  let collection: string;
  const groupId = uniqueName('test-sink');
  const decoder = new SchemaRegistry({ host: config.schemaRegistry.url });
  const runners: SinkRunner<VehicleTelemetry>[] = [];
  const extraTopics: string[] = [];
  const extraCollections: string[] = [];

  beforeAll(async () => {
    kafka = createKafka(config, 'mongodb-sink');
    topic = await createTestTopic(kafka, { partitions: 3 });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: dlqTopic(topic), numPartitions: 1 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    mongo = new MongoClient(config.mongodb.url);
    await mongo.connect();
    db = mongo.db();
    collection = uniqueName('telemetry', '_');
  });

  afterAll(async () => {
    for (const r of runners) await r.stop().catch(() => undefined);
    for (const name of [collection, ...extraCollections])
      await db
        .collection(name)
        .drop()
        .catch(() => undefined);
    await mongo.close();
    await deleteTestTopics(kafka, [topic, dlqTopic(topic), ...extraTopics]);
    await deleteTestSubjects(config, [topic, ...extraTopics]);
  });

  /** Where a test's readings go: the suite's topic and collection unless it brings its own. */
  interface Archive {
    topic: string;
    collection: string;
  }
  const suiteArchive = (): Archive => ({ topic, collection });

  async function startRunner(
    options: { group?: string; flushRecords?: number; archive?: Archive } = {},
  ): Promise<SinkRunner<VehicleTelemetry>> {
    const archive = options.archive ?? suiteArchive();
    const sink = new TelemetryHistorySink(db, archive.collection);
    await sink.ensureIndexes();
    const runner = new SinkRunner<VehicleTelemetry>({
      kafka,
      topic: archive.topic,
      groupId: options.group ?? groupId,
      sink,
      decode: async (bytes) => (await decoder.decode(bytes)) as VehicleTelemetry,
      log,
      metricsRegistry: new Registry(),
      ...(options.flushRecords === undefined ? {} : { flushRecords: options.flushRecords }),
    });
    runners.push(runner);
    await runner.start();
    return runner;
  }

  /** Readings in the stored buckets: all of them (a reading stored twice counts twice), and distinct. */
  async function storedReadings(
    archive = suiteArchive(),
  ): Promise<{ stored: number; distinct: number }> {
    const buckets = await db
      .collection<TelemetryBucket>(archive.collection)
      .find({}, { projection: { 'columns.eventId': 1 } })
      .toArray();
    const ids = buckets.flatMap((b) => b.columns.eventId);
    return { stored: ids.length, distinct: new Set(ids).size };
  }

  /** A vehicle's whole history as the API's reader answers it, `limit` readings a page. */
  async function historyOf(
    archive: Archive,
    vehicleId: string,
    limit: number,
  ): Promise<TelemetryReading[]> {
    const history = mongoTelemetryHistory(db, archive.collection);
    const all: TelemetryReading[] = [];
    for (;;) {
      const last = all.at(-1);
      const page = await history.list({
        vehicleId,
        limit,
        ...(last ? { after: { eventTime: last.eventTime, eventId: last.eventId } } : {}),
      });
      all.push(...page);
      if (page.length < limit) return all;
    }
  }

  it('stores each reading once (in buckets), dead-letters what it cannot decode, and resumes from committed offsets', async () => {
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic, lingerMs: 5 },
      metricsRegistry: new Registry(),
    });
    const events = Array.from({ length: 300 }, (_, i) => reading(i % 4, i));
    for (const e of events) await producer.send(e);
    for (const e of events.slice(0, 20)) await producer.send(e); // duplicates: same event ids
    const valid = await decoder.encode(producer.schemaId, reading(9, 9));
    const poison = [
      Buffer.from('{"json": "not avro"}'),
      Buffer.concat([Buffer.from([1]), valid.subarray(1)]), // wrong magic byte
      valid.subarray(0, valid.length - 6), // truncated Avro
    ];
    for (const p of poison) await producer.sendRaw('VEH-9', p);
    await producer.flush();

    const first = await startRunner();
    const buckets = db.collection<TelemetryBucket>(collection);
    await waitFor(
      async () =>
        (await storedReadings()).distinct === 300 &&
        (await countRecords(kafka, dlqTopic(topic))) === 3,
      {
        timeoutMs: 60_000,
        description: '300 readings and 3 dead letters',
      },
    );
    expect(first.error).toBeUndefined();

    const letters = await waitForMessages(kafka, dlqTopic(topic), { count: 3 });
    expect(letters.map((l) => l.value?.toString('hex')).sort()).toEqual(
      poison.map((p) => p.toString('hex')).sort(),
    );
    for (const letter of letters) {
      expect(letter.key?.toString()).toBe('VEH-9');
      expect(letter.headers?.[DLQ_HEADERS.stage]?.toString()).toBe('decode');
      expect(letter.headers?.[DLQ_HEADERS.topic]?.toString()).toBe(topic);
      expect(letter.headers?.[DLQ_HEADERS.errorClass]?.toString()).toBe('DecodeError');
      expect(letter.headers?.[DLQ_HEADERS.errorMessage]?.toString().length).toBeGreaterThan(0);
    }

    // Buckets of one vehicle's readings, with their time span; the reader's index exists.
    const indexes = (await buckets.listIndexes().toArray()) as { name: string }[];
    expect(indexes.map((i) => i.name)).toContain('vehicle_start');
    for (const bucket of await buckets.find({}).toArray()) {
      const times = bucket.columns.eventTime.map((t) => t.getTime());
      expect(bucket.count).toBe(bucket.columns.eventId.length);
      expect(
        bucket.columns.eventId.every((id) => id.startsWith(`ev-${bucket.vehicleId.slice(4)}-`)),
      ).toBe(true);
      expect([bucket.start.getTime(), bucket.end.getTime()]).toEqual([
        Math.min(...times),
        Math.max(...times),
      ]);
    }

    // A per-vehicle time range, through the API's reader.
    const range = await mongoTelemetryHistory(db, collection).list({
      vehicleId: 'VEH-1',
      from: T0 + 100 * 10_000,
      to: T0 + 120 * 10_000,
      limit: 100,
    });
    expect(range.map((r) => r.eventId)).toEqual([
      'ev-1-101',
      'ev-1-105',
      'ev-1-109',
      'ev-1-113',
      'ev-1-117',
    ]);
    expect(range[0]?.eventTime).toBe(T0 + 101 * 10_000);
    expect(range[0]?.source.topic).toBe(topic);

    // Offsets are committed up to the end, so a new runner in the group reads only new records.
    await first.stop();
    runners.pop();
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const committedByPartition = new Map(
      committed[0]?.partitions.map((p) => [p.partition, p.offset]),
    );
    for (const end of ends) expect(committedByPartition.get(end.partition)).toBe(end.high);

    const more = Array.from({ length: 10 }, (_, i) => reading(5, 1_000 + i));
    for (const e of more) await producer.send(e);
    await producer.close();
    const second = await startRunner();
    await waitFor(async () => (await storedReadings()).distinct === 310, {
      timeoutMs: 60_000,
      description: '310 readings',
    });
    expect(second.error).toBeUndefined();
    expect(await countRecords(kafka, dlqTopic(topic))).toBe(3);
  });

  it('answers every reading exactly once after a replay cut at other flush boundaries', async () => {
    const archive = {
      topic: await createTestTopic(kafka, { partitions: 2 }),
      collection: uniqueName('telemetry_replay', '_'),
    };
    extraTopics.push(archive.topic);
    extraCollections.push(archive.collection);
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic: archive.topic, lingerMs: 5 },
      metricsRegistry: new Registry(),
    });
    // Three vehicles; some readings arrive after later ones, so buckets overlap in time.
    const events = Array.from({ length: 120 }, (_, i) => reading(i % 3, i % 10 === 9 ? i - 8 : i));
    const distinctEvents = new Map(events.map((e) => [e.eventId, e]));
    for (const e of events) await producer.send(e);
    await producer.close();

    // The archive as written, then the whole topic again by a group of its own flushing every 7
    // records instead of 1,000: other buckets, so the store holds readings twice.
    for (const [group, flushRecords] of [
      [uniqueName('test-sink-first'), 1_000],
      [uniqueName('test-sink-replay'), 7],
    ] as const) {
      const runner = await startRunner({ group, flushRecords, archive });
      await waitFor(() => committedToEnd(archive.topic, group), {
        timeoutMs: 60_000,
        description: `group ${group} committed to the end of the topic`,
      });
      expect(runner.error).toBeUndefined();
    }
    const { stored, distinct } = await storedReadings(archive);
    expect(distinct).toBe(distinctEvents.size);
    expect(stored).toBeGreaterThan(distinct);

    // The reader answers each reading once, in (eventTime, eventId) order, over pages.
    for (const vehicleId of ['VEH-0', 'VEH-1', 'VEH-2']) {
      const eventIds = [...distinctEvents.values()]
        .filter((e) => e.vehicleId === vehicleId)
        .sort((a, b) => a.eventTime - b.eventTime || (a.eventId < b.eventId ? -1 : 1))
        .map((e) => e.eventId);
      const history = await historyOf(archive, vehicleId, 4);
      expect({ vehicleId, eventIds: history.map((r) => r.eventId) }).toEqual({
        vehicleId,
        eventIds,
      });
    }
  });

  async function committedToEnd(of: string, group: string): Promise<boolean> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [of] });
      const ends = await admin.fetchTopicOffsets(of);
      const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
      return ends.every((end) => byPartition.get(end.partition) === end.high);
    } finally {
      await admin.disconnect();
    }
  }
});
