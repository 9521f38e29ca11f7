// Telemetry SDK publish rate (encode + batch + idempotent produce, acks=all) beside a plain
// kafkajs idempotent producer sending the same pre-encoded bytes in batches of the same size,
// to a topic of the same partition count, in the same run: both warmed up, then measured in
// A-B-B-A halves, each timed until Kafka has acknowledged its last event.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createKafkaClient } from '../core/kafka-client.ts';
import {
  TelemetryProducer,
  TELEMETRY_PRODUCER_DEFAULTS,
} from '../connectors/telemetry-sdk/telemetry-producer.ts';
import { createSchemaRegistry } from '../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../schemas/types.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { withBenchTopics } from './bench-topics.ts';

function reading(i: number): VehicleTelemetry {
  return {
    eventId: randomUUID(),
    vehicleId: `VEH-${String(i % 500).padStart(4, '0')}`,
    eventTime: 1_790_000_000_000 + i * 100,
    lat: 52.52 + (i % 1000) / 10_000,
    lon: 13.4 + (i % 777) / 10_000,
    speed: 40 + (i % 60),
    speedUnit: 'KMH',
    headingDeg: i % 360,
    fuelPct: 50 + (i % 50),
    engineTemp: 85 + (i % 10),
    temperatureUnit: 'CELSIUS',
    odometerKm: 120_000 + i / 10,
  };
}

/** One measured half: events/s, and this process's CPU time per event (user + system, µs). */
interface Half {
  rate: number;
  cpuUs: number;
}

/** A shared machine moves the rates a lot; CPU per event in this process moves much less. */
async function timed(count: number, work: () => Promise<void>): Promise<Half> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await work();
  const { user, system } = process.cpuUsage(cpu);
  return { rate: count / ((performance.now() - started) / 1000), cpuUs: (user + system) / count };
}

/** events ÷ total seconds over the halves: the rate of the halves taken as one run. */
const overall = (halves: Half[]): number =>
  halves.length / halves.reduce((s, h) => s + 1 / h.rate, 0);
const meanCpu = (halves: Half[]): string =>
  (halves.reduce((s, h) => s + h.cpuUs, 0) / halves.length).toFixed(1);

export const telemetrySdkBenchmark: Benchmark = {
  name: 'telemetry-sdk',
  async run(ctx: BenchContext): Promise<BenchFigure[]> {
    const count = Math.max(1_000, Math.round(100_000 * ctx.scale));
    const warmup = Math.round(count / 2);
    const events = Array.from({ length: count }, (_, i) => reading(i));
    const warmupEvents = Array.from({ length: warmup }, (_, i) => reading(count + i));
    const partitions = ctx.config.topics.partitions;
    return withBenchTopics(ctx, 2, partitions, async (topics) => {
      const [sdkTopic, rawTopic] = topics as [string, string];
      const kafka = createKafkaClient(ctx.config, 'bench-sdk', ctx.log);
      const registry = createSchemaRegistry(ctx.config);

      const sdk = await TelemetryProducer.create({
        config: ctx.config,
        log: ctx.log,
        kafka,
        registry,
        options: { topic: sdkTopic },
        metricsRegistry: new Registry(),
      });
      // The same bytes, already encoded, through a plain idempotent producer.
      const encode = (batch: VehicleTelemetry[]) =>
        Promise.all(
          batch.map(async (e) => ({
            key: e.vehicleId,
            value: await registry.encode(sdk.schemaId, e),
          })),
        );
      const encoded = await encode(events);
      const encodedWarmup = await encode(warmupEvents);
      const bytes = encoded.reduce((n, m) => n + m.value.length, 0) / encoded.length;
      const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await raw.connect();
      const batchSize = TELEMETRY_PRODUCER_DEFAULTS.batchSize;

      // Timed until Kafka has acknowledged the last event (flush), as the raw producer's last send.
      const sdkRun = (batch: VehicleTelemetry[]): Promise<Half> =>
        timed(batch.length, async () => {
          for (const e of batch) await sdk.send(e);
          await sdk.flush();
        });
      const rawRun = (messages: typeof encoded): Promise<Half> =>
        timed(messages.length, async () => {
          for (let i = 0; i < messages.length; i += batchSize) {
            const slice = messages.slice(i, i + batchSize);
            await raw.send({ topic: rawTopic, acks: -1, messages: slice });
          }
        });

      const halves: { sdk: Half[]; raw: Half[] } = { sdk: [], raw: [] };
      try {
        // Unmeasured: the first to run would otherwise pay for compiling kafkajs' encoder and
        // for growing the heap.
        await sdkRun(warmupEvents);
        await rawRun(encodedWarmup);
        // A-B-B-A, so that neither side gets the quieter moments of a shared machine.
        halves.sdk.push(await sdkRun(events));
        halves.raw.push(await rawRun(encoded));
        halves.raw.push(await rawRun(encoded));
        halves.sdk.push(await sdkRun(events));
      } finally {
        await sdk.close();
        await raw.disconnect();
      }

      const list = (hs: Half[]): string => hs.map((h) => Math.round(h.rate)).join(' / ');
      return [
        {
          name: 'telemetry SDK publish (encode + batch + idempotent produce)',
          value: overall(halves.sdk),
          unit: 'events/s',
          baseline: {
            name: 'kafkajs idempotent producer, same pre-encoded bytes',
            value: overall(halves.raw),
          },
          notes:
            `${count} events of ${bytes.toFixed(0)} B a half, ${partitions} partitions, acks=all, batch ${batchSize}; ` +
            `halves SDK, raw, raw, SDK after a warm-up of ${warmup} each: SDK ${list(halves.sdk)}, raw ${list(halves.raw)} events/s; ` +
            `CPU of this process per event: SDK ${meanCpu(halves.sdk)} µs, raw ${meanCpu(halves.raw)} µs`,
        },
      ];
    });
  },
};
