// The telemetry producer SDK against the real broker and registry: every event arrives once,
// keyed by vehicle, in order per vehicle, decodable with nothing but the registry URL; a full
// buffer makes send() wait instead of dropping; a bad event is refused at send(); a record the
// topic refuses for its size is reported by flush(), and a refused producer fails every call.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import {
  TelemetryEncodeError,
  TelemetryProducer,
  TelemetryProducerFailedError,
  TelemetryRecordsRefusedError,
} from '../../connectors/telemetry-sdk/telemetry-producer.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
import {
  countRecords,
  createKafka,
  createTestTopic,
  deleteTestTopics,
  waitForMessages,
} from '../support/kafka.ts';
import { deleteTestSubjects } from '../support/registry.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');

function telemetry(vehicle: number, seq: number): VehicleTelemetry {
  return {
    eventId: `ev-${vehicle}-${seq}`,
    vehicleId: `VEH-${String(vehicle).padStart(3, '0')}`,
    eventTime: 1_790_000_000_000 + seq * 1_000,
    lat: 52.5 + seq / 10_000,
    lon: 13.4 - seq / 10_000,
    speed: 50 + (seq % 30),
    speedUnit: 'KMH',
    headingDeg: (seq * 7) % 360,
    fuelPct: 80 - seq / 100,
    engineTemp: 88.5,
    temperatureUnit: 'CELSIUS',
    odometerKm: 10_000 + seq / 10,
  };
}

describe('telemetry producer SDK', () => {
  let kafka: Kafka;
  const topics: string[] = [];
  /** Topics that never existed, whose value subjects the producer registered. */
  const subjectsOnly: string[] = [];

  beforeAll(() => {
    kafka = createKafka(config, 'telemetry-sdk');
  });
  afterAll(async () => {
    await deleteTestTopics(kafka, topics);
    await deleteTestSubjects(config, [...topics, ...subjectsOnly]);
  });

  async function topic(): Promise<string> {
    const name = await createTestTopic(kafka, { partitions: 6 });
    topics.push(name);
    return name;
  }

  it('publishes every event once, keyed by vehicle, in order per vehicle, decodable from the registry URL alone', async () => {
    const name = await topic();
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic: name, lingerMs: 5, batchSize: 200 },
      metricsRegistry: new Registry(),
    });
    const sent: VehicleTelemetry[] = [];
    for (let seq = 0; seq < 250; seq++)
      for (let vehicle = 0; vehicle < 8; vehicle++) sent.push(telemetry(vehicle, seq));
    await Promise.all(sent.map((e) => producer.send(e)));
    await producer.close();

    const messages = await waitForMessages(kafka, name, { count: sent.length, timeoutMs: 60_000 });
    const decoder = new SchemaRegistry({ host: config.schemaRegistry.url });
    const received = await Promise.all(
      messages.map(async (m) => ({
        key: m.key?.toString(),
        value: (await decoder.decode(m.value as Buffer)) as VehicleTelemetry,
      })),
    );
    expect(received).toHaveLength(sent.length);
    expect(await countRecords(kafka, name)).toBe(sent.length);
    expect(new Set(received.map((r) => r.value.eventId)).size).toBe(sent.length);
    for (const r of received) expect(r.key).toBe(r.value.vehicleId);
    const byId = new Map(sent.map((e) => [e.eventId, e]));
    for (const r of received) expect(r.value).toEqual(byId.get(r.value.eventId));
    // Per vehicle (one partition each), Kafka order equals send order.
    const perVehicle = new Map<string, number[]>();
    for (const r of received)
      perVehicle.set(r.value.vehicleId, [
        ...(perVehicle.get(r.value.vehicleId) ?? []),
        r.value.eventTime,
      ]);
    for (const times of perVehicle.values())
      expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('makes send() wait when the buffer is full, never holding more than the bound, and loses nothing', async () => {
    const name = await topic();
    const metrics = new Registry();
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic: name, lingerMs: 50, batchSize: 25, maxBufferedEvents: 50 },
      metricsRegistry: metrics,
    });
    let maxPending = 0;
    const events = Array.from({ length: 600 }, (_, i) => telemetry(i % 5, i));
    await Promise.all(
      events.map(async (e) => {
        await producer.send(e);
        maxPending = Math.max(maxPending, producer.pendingEvents);
      }),
    );
    await producer.close();
    expect(maxPending).toBeLessThanOrEqual(50);
    const waits = await metrics.getSingleMetric('continuum_sdk_backpressure_waits_total')?.get();
    expect(waits?.values[0]?.value ?? 0).toBeGreaterThan(0);
    const sentMetric = await metrics.getSingleMetric('continuum_sdk_events_sent_total')?.get();
    expect(sentMetric?.values[0]?.value).toBe(600);
    expect(await countRecords(kafka, name)).toBe(600);
  });

  it('refuses an event that does not match the schema at send(), and relays raw bytes as they are', async () => {
    const name = await topic();
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic: name, lingerMs: 5 },
      metricsRegistry: new Registry(),
    });
    const broken = { ...telemetry(1, 1), fuelPct: 'full' } as unknown as VehicleTelemetry;
    await expect(producer.send(broken)).rejects.toThrow(TelemetryEncodeError);
    await producer.sendRaw('VEH-001', Buffer.from('not avro at all'));
    await producer.send(telemetry(1, 2));
    await producer.close();
    const messages = await waitForMessages(kafka, name, { count: 2, timeoutMs: 60_000 });
    expect(messages.map((m) => m.value?.subarray(0, 15).toString())).toContain('not avro at all');
    expect(messages).toHaveLength(2);
  });

  it('sets aside a record the topic refuses for its size, writes its neighbours in order, and flush() reports it', async () => {
    const name = await createTestTopic(kafka, {
      partitions: 1,
      configEntries: [{ name: 'max.message.bytes', value: '4096' }],
    });
    topics.push(name);
    const metrics = new Registry();
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic: name, lingerMs: 50, batchSize: 20 },
      metricsRegistry: metrics,
    });
    const before = Array.from({ length: 8 }, (_, i) => telemetry(1, i));
    const after = Array.from({ length: 8 }, (_, i) => telemetry(1, 100 + i));
    for (const e of before) await producer.send(e);
    await producer.sendRaw('VEH-001', Buffer.alloc(20_000, 7));
    for (const e of after) await producer.send(e);
    const flushed = await producer.flush().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(flushed).toBeInstanceOf(TelemetryRecordsRefusedError);
    expect((flushed as TelemetryRecordsRefusedError).refused).toEqual([
      { key: 'VEH-001', bytes: 20_000, reason: 'MESSAGE_TOO_LARGE' },
    ]);
    expect((flushed as Error).message).toContain("raise the topic's max.message.bytes");
    // Reported once; the producer goes on.
    await producer.send(telemetry(1, 200));
    await producer.close();
    const refused = await metrics.getSingleMetric('continuum_sdk_events_refused_total')?.get();
    expect(refused?.values).toEqual([
      expect.objectContaining({ labels: { reason: 'MESSAGE_TOO_LARGE' }, value: 1 }),
    ]);
    const messages = await waitForMessages(kafka, name, { count: 17, timeoutMs: 60_000 });
    const decoder = new SchemaRegistry({ host: config.schemaRegistry.url });
    const ids = await Promise.all(
      messages.map(
        async (m) => ((await decoder.decode(m.value as Buffer)) as VehicleTelemetry).eventId,
      ),
    );
    expect(ids).toEqual([...before, ...after, telemetry(1, 200)].map((e) => e.eventId));
  });

  it('fails for good when Kafka refuses the producer itself: sends and flushes reject instead of blocking', async () => {
    // A name the broker refuses as a topic (INVALID_TOPIC_EXCEPTION): no retry changes that.
    const invalid = `test.invalid topic ${Date.now()}`;
    subjectsOnly.push(invalid);
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic: invalid, lingerMs: 5, maxBufferedEvents: 3, batchSize: 2 },
      metricsRegistry: new Registry(),
    });
    // More than the buffer holds: the fourth send waits for space, and is woken by the failure.
    const sends = Array.from({ length: 4 }, (_, i) =>
      producer.send(telemetry(2, i)).then(
        () => 'accepted',
        (err: unknown) => err,
      ),
    );
    const flushed = await producer.flush().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(flushed).toBeInstanceOf(TelemetryProducerFailedError);
    expect((flushed as Error).message).toContain('INVALID_TOPIC_EXCEPTION');
    const outcomes = await Promise.all(sends);
    expect(outcomes.slice(0, 3)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(outcomes[3]).toBeInstanceOf(TelemetryProducerFailedError);
    await expect(producer.send(telemetry(2, 9))).rejects.toBeInstanceOf(
      TelemetryProducerFailedError,
    );
    await expect(producer.close()).rejects.toBeInstanceOf(TelemetryProducerFailedError);
  });
});
