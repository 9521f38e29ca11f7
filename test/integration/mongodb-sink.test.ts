// telemetry → MongoDB through the sink runner, on the real broker, registry and FerretDB:
// each event stored once (duplicates and replays rewrite the same document), undecodable
// records in the DLQ with their original bytes and why, offsets committed after the writes.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { createLogger } from '../../core/logger.ts';
import { dlqTopic } from '../../core/topics.ts';
import { waitFor } from '../../core/wait-for.ts';
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
    await db
      .collection(collection)
      .drop()
      .catch(() => undefined);
    await mongo.close();
    await deleteTestTopics(kafka, [topic, dlqTopic(topic)]);
    await deleteTestSubjects(config, [topic]);
  });

  async function startRunner(): Promise<SinkRunner<VehicleTelemetry>> {
    const sink = new TelemetryHistorySink(db, collection);
    await sink.ensureIndexes();
    const runner = new SinkRunner<VehicleTelemetry>({
      kafka,
      topic,
      groupId,
      sink,
      decode: async (bytes) => (await decoder.decode(bytes)) as VehicleTelemetry,
      log,
      metricsRegistry: new Registry(),
    });
    runners.push(runner);
    await runner.start();
    return runner;
  }

  it('stores each event once, dead-letters what it cannot decode, and resumes from committed offsets', async () => {
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
    const docs = db.collection(collection);
    await waitFor(
      async () =>
        (await docs.countDocuments()) === 300 && (await countRecords(kafka, dlqTopic(topic))) === 3,
      {
        timeoutMs: 60_000,
        description: '300 documents and 3 dead letters',
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

    // A per-vehicle time range, served by the vehicle_time index.
    const indexes = (await docs.listIndexes().toArray()) as { name: string }[];
    expect(indexes.map((i) => i.name)).toContain('vehicle_time');
    const range = await docs
      .find({
        vehicleId: 'VEH-1',
        eventTime: { $gte: new Date(T0 + 100 * 10_000), $lt: new Date(T0 + 120 * 10_000) },
      })
      .sort({ eventTime: 1 })
      .toArray();
    expect(range.map((d) => d._id)).toEqual([
      'ev-1-101',
      'ev-1-105',
      'ev-1-109',
      'ev-1-113',
      'ev-1-117',
    ]);
    expect(range[0]?.eventTime).toEqual(new Date(T0 + 101 * 10_000));

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
    await waitFor(async () => (await docs.countDocuments()) === 310, {
      timeoutMs: 60_000,
      description: '310 documents',
    });
    expect(second.error).toBeUndefined();
    expect(await countRecords(kafka, dlqTopic(topic))).toBe(3);
  });
});
