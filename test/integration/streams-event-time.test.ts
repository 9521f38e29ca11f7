// Event-time hygiene of the streams runtime on the real broker, once per Kafka client adapter:
// wall-clock punctuations fire on a timer (a quiet partition releases what the cleaner holds),
// and a backlog larger than a transaction's bound is committed in bounded transactions.
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
import { lineageOf } from '../../streams/lineage.ts';
import {
  createStreamsClient,
  STREAMS_CLIENT_KINDS,
} from '../../streams/runtime/clients/create-streams-client.ts';
import type { StreamsClientKind, StreamsKafkaClient } from '../../streams/runtime/kafka-port.ts';
import { jsonSerde } from '../../streams/runtime/serde.ts';
import { StreamsApplication } from '../../streams/runtime/streams-application.ts';
import { telemetryCleanTopology } from '../../streams/topologies.ts';
import {
  deliveryMessages,
  depotTotalsTopics,
  depotTotalsTopology,
  type Delivery,
} from '../support/depot-totals-topology.ts';
import {
  createKafka,
  createTestTopic,
  deleteTestTopics,
  readToEnd,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const T0 = Date.UTC(2026, 0, 5, 8, 0);

function reading(seconds: number): VehicleTelemetry {
  return {
    eventId: `V-1-${seconds}`,
    vehicleId: 'V-1',
    eventTime: T0 + seconds * 1_000,
    lat: 50.9 + seconds * 0.00018,
    lon: 6.9,
    speed: 72,
    speedUnit: 'KMH',
    headingDeg: 0,
    fuelPct: 80,
    engineTemp: 90,
    temperatureUnit: 'CELSIUS',
    odometerKm: 1_000 + seconds * 0.02,
  };
}

async function produce(
  kafka: Kafka,
  topic: string,
  messages: { key: string; value: string; partition?: number }[],
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 5_000)
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 5_000) });
  } finally {
    await producer.disconnect();
  }
}

describe.each<StreamsClientKind>([...STREAMS_CLIENT_KINDS])('event time on %s', (kind) => {
  let client: StreamsKafkaClient;
  let kafka: Kafka;

  beforeAll(() => {
    client = createStreamsClient(config, kind, log);
    kafka = createKafka(config, 'streams-event-time');
  });

  it('fires wall-clock punctuations on a timer: a quiet partition releases the readings it holds', async () => {
    const raw = await createTestTopic(kafka, { partitions: 1 });
    const clean = await createTestTopic(kafka, { partitions: 1 });
    const topology = telemetryCleanTopology({
      applicationId: uniqueName(`test-quiet-${kind}`),
      topics: { telemetryRaw: raw, telemetryClean: clean },
      telemetrySerde: jsonSerde<VehicleTelemetry>(),
      // Stream time alone would hold these three for the 60 s grace period, forever.
      clean: { graceMs: 60_000, quietAfterMs: 1_500 },
    });
    const app = new StreamsApplication({
      topology,
      client,
      log,
      guarantee: 'exactly-once',
      metricsRegistry: new Registry(),
      punctuationIntervalMs: 250,
    });
    try {
      await produce(
        kafka,
        raw,
        [0, 20, 10].map((s) => ({ key: 'V-1', value: JSON.stringify(reading(s)) })),
      );
      await app.start();
      const released = await waitForMessages(kafka, clean, {
        count: 3,
        isolationLevel: 'read_committed',
        timeoutMs: 60_000,
      });
      expect(
        released.map((m) => (JSON.parse(m.value?.toString() ?? '{}') as VehicleTelemetry).eventId),
      ).toEqual(['V-1-0', 'V-1-10', 'V-1-20']);
      expect(released.map((m) => lineageOf(m.headers)?.offset)).toEqual([0, 2, 1]);
    } finally {
      await app.stop();
      await deleteTestTopics(kafka, [raw, clean, ...topology.internalTopics().map((t) => t.topic)]);
    }
  }, 90_000);

  it('commits a backlog in one partition in transactions bounded by record count, the totals exact', async () => {
    const input = await createTestTopic(kafka, { partitions: 1 });
    const output = await createTestTopic(kafka, { partitions: 1 });
    const applicationId = uniqueName(`test-bound-${kind}`);
    const deliveries: Delivery[] = Array.from({ length: 30_000 }, (_, i) => ({
      parcel: `p-${i}`,
      depot: ['BER', 'HAM', 'MUC'][i % 3] ?? 'BER',
      kg: (i % 5) + 1,
    }));
    const registry = new Registry();
    const app = new StreamsApplication({
      topology: depotTotalsTopology(applicationId, input, output),
      client,
      log,
      guarantee: 'exactly-once',
      metricsRegistry: registry,
      maxTransactionRecords: 2_000,
      // Only the record bound may end a transaction early.
      commitIntervalMs: 60_000,
    });
    try {
      await produce(
        kafka,
        input,
        deliveryMessages(deliveries).map((m) => ({ ...m, partition: 0 })),
      );
      await app.start();
      const want = new Map<string, number>();
      for (const d of deliveries) want.set(d.depot, (want.get(d.depot) ?? 0) + d.kg);
      await waitFor(
        async () => {
          const latest = new Map<string, number>();
          for (const m of await readToEnd(kafka, output))
            latest.set(m.key?.toString() ?? '', Number(m.value?.toString()));
          return [...want].every(([depot, kg]) => latest.get(depot) === kg);
        },
        { timeoutMs: 120_000, intervalMs: 500, description: 'totals of all 30,000 deliveries' },
      );
      // 30,000 input records in transactions of at most 2,000: the source partition alone
      // needs 15 commits (the repartition's records add more).
      const commits = await registry.getSingleMetric('continuum_commit_seconds')?.get();
      const count = commits?.values.find(
        (v) => (v as { metricName?: string }).metricName === 'continuum_commit_seconds_count',
      );
      expect(count?.value ?? 0).toBeGreaterThanOrEqual(15);
    } finally {
      await app.stop();
      await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output));
    }
  }, 180_000);
});
