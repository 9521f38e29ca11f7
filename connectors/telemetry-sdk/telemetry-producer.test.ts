// The SDK's buffer without a broker: a fake kafkajs producer whose requests are acknowledged
// when the test says so, and a registry stub that hands out the contract's avsc type.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { loadAvroSchema } from '../../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
import { TelemetryProducer } from './telemetry-producer.ts';

const type = avro.Type.forSchema(loadAvroSchema('VehicleTelemetry') as avro.Schema);

function reading(seq: number): VehicleTelemetry {
  return {
    eventId: `ev-${seq}`,
    vehicleId: 'VEH-001',
    eventTime: 1_790_000_000_000 + seq * 1_000,
    lat: 52.5,
    lon: 13.4,
    speed: 50,
    speedUnit: 'KMH',
    headingDeg: 90,
    fuelPct: 80,
    engineTemp: 88.5,
    temperatureUnit: 'CELSIUS',
    odometerKm: 10_000 + seq,
  };
}

/** Requests wait until `ack()`; `sent` lists each request's event ids, in order. */
function fakeKafka() {
  const sent: string[][] = [];
  const pending: (() => void)[] = [];
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    send: ({ messages }: { messages: { value: Buffer }[] }) => {
      sent.push(
        messages.map((m) => (type.fromBuffer(m.value.subarray(5)) as VehicleTelemetry).eventId),
      );
      return new Promise<void>((resolve) => pending.push(resolve));
    },
  };
  return {
    kafka: { producer: () => producer } as unknown as Kafka,
    sent,
    ack: () => pending.shift()?.(),
  };
}

const registry = {
  register: () => Promise.resolve({ id: 7 }),
  getSchema: () => Promise.resolve(type),
} as unknown as SchemaRegistry;

const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('TelemetryProducer buffer', () => {
  it('a send made while waiting sends are being woken queues behind them: order per key holds', async () => {
    const { kafka, sent, ack } = fakeKafka();
    const producer = await TelemetryProducer.create({
      config: loadConfig({}),
      log: createLogger('silent'),
      kafka,
      registry,
      options: { topic: 't', batchSize: 1, maxBufferedEvents: 2, lingerMs: 1 },
      metricsRegistry: new Registry(),
    });
    const accepted: number[] = [];
    const send = (seq: number) => producer.send(reading(seq)).then(() => accepted.push(seq));
    const first = [send(0), send(1), send(2), send(3)]; // 2 and 3 wait for room
    await ticks(20);
    expect(accepted).toEqual([0, 1]);
    ack(); // event 0 acknowledged: room for one; the waiters are woken on the next turn
    await ticks(20);
    const late = send(4); // before that turn: must not take the room ahead of 2 and 3
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      ack();
    }
    await Promise.all([...first, late]);
    const flushed = producer.flush();
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      ack();
    }
    await flushed;
    expect(accepted).toEqual([0, 1, 2, 3, 4]);
    expect(sent.flat()).toEqual(['ev-0', 'ev-1', 'ev-2', 'ev-3', 'ev-4']);
    await producer.close();
  });
});
