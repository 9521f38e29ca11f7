// Poison pills among a simulated run's valid events, on every partition of telemetry.raw and
// shipments.cdc: a bad magic byte, an unknown schema id, truncated Avro, and valid Avro with
// impossible values (readings out of range or without a time, a forbidden status transition).
// Each lands in its topic's DLQ with its key, bytes and headers and why; nothing else does; no
// valid event is lost (every stage equals the offline fold) and no partition stalls.
import type { Kafka, Producer } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { createLogger } from '../../core/logger.ts';
import { dlqTopic } from '../../core/topics.ts';
import type { TelemetrySink } from '../../connectors/telemetry-sdk/telemetry-sink.ts';
import { registerValueSchema } from '../../schemas/event-schemas.ts';
import type { Shipment, ShipmentChange, VehicleTelemetry } from '../../schemas/types.ts';
import { NO_FAULTS } from '../../seeder/faults.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../seeder/simulation.ts';
import { createKafka } from '../support/kafka.ts';
import {
  checkPipeline,
  firstLines,
  foldInputs,
  settledOutputs,
} from '../support/pipeline/pipeline-checks.ts';
import { PipelineHarness } from '../support/pipeline/pipeline-harness.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const PILL_HEADER = 'test.pill';
/** No registry hands out ids this high for a handful of test subjects. */
const UNKNOWN_SCHEMA_ID = 2_000_000_000;

const SIMULATION: SimulationOptions = {
  ...SIMULATION_DEFAULTS,
  seed: 4_711,
  vehicles: 4,
  shipments: 8,
  customers: 10,
  durationMs: 2 * 3_600_000,
  faults: NO_FAULTS,
};

interface Pill {
  kind: string;
  topic: 'telemetry' | 'cdc';
  stage: 'deserialize' | 'extract-timestamp' | 'process';
  reason?: string;
  key: string;
  value: Buffer;
  partition: number;
}

function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** The Confluent header survives, the Avro body ends mid-record. */
function truncate(encoded: Buffer): Buffer {
  return encoded.subarray(0, 5 + Math.floor((encoded.length - 5) / 2));
}

function shipmentRow(id: string, status: Shipment['status'], changeSeq: number): Shipment {
  return {
    shipmentId: id,
    customerId: 'CUS-POISON',
    originId: 'DEPOT-X',
    originLat: 50.1,
    originLon: 8.6,
    destinationId: 'SITE-X',
    destinationLat: 50.9,
    destinationLon: 6.9,
    vehicleId: null,
    status,
    weightKg: 10,
    promisedAt: SIMULATION.startTime + 86_400_000,
    createdAt: SIMULATION.startTime,
    updatedAt: SIMULATION.startTime + changeSeq * 60_000,
    changeSeq,
  };
}

describe('poison pills in the stream pipeline', () => {
  let kafka: Kafka;
  let harness: PipelineHarness;
  let producer: Producer;

  beforeAll(async () => {
    kafka = createKafka(config, 'pipeline-poison');
    harness = await PipelineHarness.create(config, kafka, log);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await (producer as Producer | undefined)?.disconnect();
    // Undefined when beforeAll failed before creating it.
    await (harness as PipelineHarness | undefined)?.cleanup();
  });

  async function pillsFor(partition: number, vehicleId: string): Promise<Pill[]> {
    const { registry, topics } = harness;
    const telemetryId = await registerValueSchema(
      registry,
      topics.telemetryRaw,
      'VehicleTelemetry',
    );
    const changeId = await registerValueSchema(registry, topics.shipmentsCdc, 'ShipmentChange');
    const reading = (n: number, patch: Partial<VehicleTelemetry>): VehicleTelemetry => ({
      eventId: `poison-${partition}-${n}`,
      vehicleId,
      eventTime: SIMULATION.startTime + 30 * 60_000,
      lat: 50.1,
      lon: 8.6,
      speed: 40,
      speedUnit: 'KMH',
      headingDeg: 90,
      fuelPct: 50,
      engineTemp: 85,
      temperatureUnit: 'CELSIUS',
      odometerKm: 1_000,
      ...patch,
    });
    const impossible = [{ fuelPct: 140 }, { speed: -5 }, { lat: 200 }][partition % 3] ?? {};
    const change = (
      id: string,
      op: ShipmentChange['op'],
      before: Shipment | null,
      after: Shipment,
    ): ShipmentChange => ({
      op,
      before,
      after,
      source: { lsn: 1, commitLsn: 1, txId: 1, table: 'shipments', snapshot: false },
      commitTime: SIMULATION.startTime,
    });
    const newId = `SHP-POISON-${partition}-NEW`;
    const unknownId = `SHP-POISON-${partition}-UPD`;
    const telemetry = (
      kind: string,
      stage: Pill['stage'],
      value: Buffer,
      reason?: string,
    ): Pill => ({
      kind,
      topic: 'telemetry',
      stage,
      ...(reason === undefined ? {} : { reason }),
      key: vehicleId,
      value,
      partition,
    });
    const cdc = (
      kind: string,
      key: string,
      stage: Pill['stage'],
      value: Buffer,
      reason?: string,
    ): Pill => ({
      kind,
      topic: 'cdc',
      stage,
      ...(reason === undefined ? {} : { reason }),
      key,
      value,
      partition,
    });
    const validChange = await registry.encode(
      changeId,
      change(newId, 'INSERT', null, shipmentRow(newId, 'CREATED', 1)),
    );
    return [
      telemetry('bad-magic', 'deserialize', Buffer.from([7, 0, 0, 0, 1, 2, 4, 6, 8])),
      telemetry(
        'unknown-schema-id',
        'deserialize',
        frame(UNKNOWN_SCHEMA_ID, Buffer.from([2, 4, 6, 8])),
      ),
      telemetry(
        'truncated-avro',
        'deserialize',
        truncate(await registry.encode(telemetryId, reading(1, {}))),
      ),
      telemetry(
        'impossible-value',
        'process',
        await registry.encode(telemetryId, reading(2, impossible)),
        'impossible-value',
      ),
      telemetry(
        'no-event-time',
        'extract-timestamp',
        await registry.encode(telemetryId, reading(3, { eventTime: -1 })),
        'invalid-timestamp',
      ),
      // A bad clock a day ahead: it must not move the partition's watermark (the fold checks
      // that dedupe and reordering of everything else are unchanged).
      telemetry(
        'far-future',
        'extract-timestamp',
        await registry.encode(telemetryId, reading(4, { eventTime: Date.now() + 86_400_000 })),
        'future',
      ),
      cdc('bad-magic', newId, 'deserialize', Buffer.from([1, ...validChange.subarray(1)])),
      cdc(
        'unknown-schema-id',
        newId,
        'deserialize',
        frame(UNKNOWN_SCHEMA_ID, validChange.subarray(5)),
      ),
      cdc('truncated-avro', newId, 'deserialize', truncate(validChange)),
      cdc(
        'insert-not-created',
        newId,
        'process',
        await registry.encode(
          changeId,
          change(newId, 'INSERT', null, shipmentRow(newId, 'DELIVERED', 1)),
        ),
        'impossible-transition',
      ),
      cdc(
        'delivered-to-in-transit',
        unknownId,
        'process',
        await registry.encode(
          changeId,
          change(
            unknownId,
            'UPDATE',
            shipmentRow(unknownId, 'DELIVERED', 4),
            shipmentRow(unknownId, 'IN_TRANSIT', 5),
          ),
        ),
        'impossible-transition',
      ),
    ];
  }

  it('dead-letters exactly the injected records, with their headers, and loses and stalls nothing', async () => {
    const { topics } = harness;
    const partitions = harness.options.partitions;
    const injected: Pill[] = [];
    let sent = 0;
    // Among the simulator's events: the pills of partition p after its (p + 1) × 400th reading.
    const interpose = (sink: TelemetrySink): TelemetrySink => ({
      send: async (event) => {
        await sink.send(event);
        sent += 1;
        const partition = sent / 400 - 1;
        if (!Number.isInteger(partition) || partition >= partitions) return;
        const pills = await pillsFor(partition, event.vehicleId);
        for (const pill of pills) {
          await producer.send({
            topic: pill.topic === 'telemetry' ? topics.telemetryRaw : topics.shipmentsCdc,
            acks: -1,
            messages: [
              {
                key: pill.key,
                value: pill.value,
                partition: pill.partition,
                headers: { [PILL_HEADER]: `${pill.topic}/${pill.kind}/${pill.partition}` },
              },
            ],
          });
        }
        injected.push(...pills);
      },
      sendRaw: (key, value) => sink.sendRaw(key, value),
      flush: () => sink.flush(),
      close: () => sink.close(),
    });

    const streams = await harness.startStreams('exactly-once');
    await harness.startSinks();
    await harness.seed(SIMULATION, interpose);
    expect(new Set(injected.map((p) => p.partition)).size).toBe(partitions);
    await harness.waitUntilSettled(streams, settledOutputs(await foldInputs(harness)));
    await streams.kill('SIGTERM');

    // Each pill is in its DLQ once: same key, bytes and headers, plus why, where and who.
    for (const [kind, topic] of [
      ['telemetry', topics.telemetryRaw],
      ['cdc', topics.shipmentsCdc],
    ] as const) {
      const pills = injected.filter((p) => p.topic === kind);
      const inputs = await harness.readRaw(topic);
      const letters = await harness.readRaw(dlqTopic(topic));
      expect(letters).toHaveLength(pills.length);
      const problems: string[] = [];
      for (const pill of pills) {
        const tag = `${pill.topic}/${pill.kind}/${pill.partition}`;
        const input = inputs.find((m) => m.headers?.[PILL_HEADER]?.toString() === tag);
        const letter = letters.find((m) => m.headers?.[PILL_HEADER]?.toString() === tag);
        if (!input || !letter) {
          problems.push(`${tag}: ${input ? 'no dead letter' : 'not in the input'}`);
          continue;
        }
        const h = (name: string): string | undefined => letter.headers?.[name]?.toString();
        const got = {
          key: letter.key?.toString(),
          value: letter.value?.toString('hex'),
          topic: h(DLQ_HEADERS.topic),
          partition: h(DLQ_HEADERS.partition),
          offset: h(DLQ_HEADERS.offset),
          stage: h(DLQ_HEADERS.stage),
          reason: h(DLQ_HEADERS.reason),
        };
        const want = {
          key: pill.key,
          value: pill.value.toString('hex'),
          topic,
          partition: String(pill.partition),
          offset: input.offset,
          stage: pill.stage,
          reason: pill.reason,
        };
        if (JSON.stringify(got) !== JSON.stringify(want))
          problems.push(`${tag}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
        for (const name of [
          DLQ_HEADERS.errorClass,
          DLQ_HEADERS.errorMessage,
          DLQ_HEADERS.processor,
          DLQ_HEADERS.failedAt,
        ])
          if (!h(name)) problems.push(`${tag}: no ${name} header`);
      }
      expect(problems).toEqual([]);
    }

    // Nothing else: every stage equals the fold, which rejects the same records and no others.
    const findings = await checkPipeline(harness);
    expect(findings.fold.telemetry.rejected).toHaveLength(
      injected.filter((p) => p.topic === 'telemetry').length,
    );
    expect(findings.fold.shipments.rejected).toHaveLength(
      injected.filter((p) => p.topic === 'cdc').length,
    );
    expect(firstLines(findings.dlqDiffs)).toEqual([]);
    expect(findings.lostCleanReadings).toBe(0);
    expect(firstLines(findings.cleanDiffs)).toEqual([]);
    expect(firstLines(findings.redisDiffs)).toEqual([]);
    expect(firstLines(findings.postgresDiffs)).toEqual([]);
    expect(firstLines(findings.deliveryDiffs)).toEqual([]);

    // No stall: every input partition, pills or not, was committed to its end.
    for (const topic of [topics.telemetryRaw, topics.shipmentsCdc]) {
      const group =
        topic === topics.telemetryRaw ? harness.telemetryCleanAppId : harness.shipmentStateAppId;
      const p = await harness.progress(group, topic);
      expect({ topic, committed: p.detail }).toEqual({
        topic,
        committed: [...p.ends].map(([n, e]) => `p${n} ${e.high}/${e.high}`).join(', '),
      });
    }
  }, 300_000);
});
