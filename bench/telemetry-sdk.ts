// Telemetry SDK publish rate (encode + batch + idempotent produce, acks=all) beside a plain
// kafkajs idempotent producer sending the same pre-encoded bytes in batches of the same size,
// to a topic of the same partition count, in the same run.
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

export const telemetrySdkBenchmark: Benchmark = {
  name: 'telemetry-sdk',
  async run(ctx: BenchContext): Promise<BenchFigure[]> {
    const count = Math.max(1_000, Math.round(100_000 * ctx.scale));
    const events = Array.from({ length: count }, (_, i) => reading(i));
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
      const sdkStart = performance.now();
      for (const e of events) await sdk.send(e);
      await sdk.close();
      const sdkSeconds = (performance.now() - sdkStart) / 1000;

      // The same bytes, already encoded, through a plain idempotent producer.
      const encoded = await Promise.all(
        events.map(async (e) => ({
          key: e.vehicleId,
          value: await registry.encode(sdk.schemaId, e),
        })),
      );
      const bytes = encoded.reduce((n, m) => n + m.value.length, 0) / encoded.length;
      const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await raw.connect();
      const batchSize = TELEMETRY_PRODUCER_DEFAULTS.batchSize;
      const rawStart = performance.now();
      for (let i = 0; i < encoded.length; i += batchSize) {
        await raw.send({ topic: rawTopic, acks: -1, messages: encoded.slice(i, i + batchSize) });
      }
      const rawSeconds = (performance.now() - rawStart) / 1000;
      await raw.disconnect();

      return [
        {
          name: 'telemetry SDK publish (encode + batch + idempotent produce)',
          value: count / sdkSeconds,
          unit: 'events/s',
          baseline: {
            name: 'kafkajs idempotent producer, same pre-encoded bytes',
            value: count / rawSeconds,
          },
          notes: `${count} events of ${bytes.toFixed(0)} B, ${partitions} partitions, acks=all, batch ${batchSize}`,
        },
      ];
    });
  },
};
