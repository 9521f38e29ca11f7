// The cached encoder writes exactly what the registry client's encode() writes (magic byte, the
// id, the Avro body), across slab boundaries, and refuses what it refuses.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { loadAvroSchema } from './event-schemas.ts';
import type { VehicleTelemetry } from './types.ts';
import { AvroEncodeError, WireEncoder, wireEncoderFor } from './wire-encoder.ts';

const SCHEMA_ID = 0x01_02_03_04;
const type = avro.Type.forSchema(loadAvroSchema('VehicleTelemetry') as avro.Schema);

function reading(i: number, eventId = `ev-${i}`): VehicleTelemetry {
  return {
    eventId,
    vehicleId: `VEH-${String(i % 50).padStart(3, '0')}`,
    eventTime: 1_790_000_000_000 + i * 1_000,
    lat: 52.5 + i / 10_000,
    lon: 13.4 - i / 10_000,
    speed: 40 + (i % 60),
    speedUnit: i % 2 === 0 ? 'KMH' : 'MPH',
    headingDeg: i % 360,
    fuelPct: 80 - (i % 80),
    engineTemp: 88.5,
    temperatureUnit: i % 3 === 0 ? 'FAHRENHEIT' : 'CELSIUS',
    odometerKm: 10_000 + i / 10,
  };
}

/** The registry client with the schema already in its cache, as after a lookup: no HTTP. */
function registryWith(id: number): SchemaRegistry {
  const registry = new SchemaRegistry({ host: 'http://127.0.0.1:9' });
  // The client's cache is private; seeding it is the only way to its encode() without a server.
  (
    registry as unknown as { cache: { setSchema(id: number, kind: string, s: unknown): void } }
  ).cache.setSchema(id, 'AVRO', type);
  return registry;
}

describe('WireEncoder', () => {
  it("writes the registry client's bytes for the same value", async () => {
    const registry = registryWith(SCHEMA_ID);
    const encoder = await wireEncoderFor<VehicleTelemetry>(registry, SCHEMA_ID);
    for (let i = 0; i < 200; i++) {
      const value = reading(i);
      expect(encoder.encode(value).toString('hex')).toBe(
        (await registry.encode(SCHEMA_ID, value)).toString('hex'),
      );
    }
  });

  it('keeps every record intact across slabs, including one larger than a slab', () => {
    const encoder = new WireEncoder<VehicleTelemetry>(type, SCHEMA_ID, 256);
    const values = Array.from({ length: 100 }, (_, i) =>
      reading(i, i === 37 ? 'x'.repeat(1_000) : `ev-${i}`),
    );
    const encoded = values.map((v) => encoder.encode(v));
    encoded.forEach((bytes, i) => {
      expect(bytes[0]).toBe(0);
      expect(bytes.readInt32BE(1)).toBe(SCHEMA_ID);
      expect(type.fromBuffer(bytes.subarray(5))).toEqual(values[i]);
    });
  });

  it('refuses a value that does not match the schema, naming the field, and goes on', () => {
    const encoder = new WireEncoder<VehicleTelemetry>(type, SCHEMA_ID);
    const broken = { ...reading(1), fuelPct: 'full' } as unknown as VehicleTelemetry;
    let thrown: unknown;
    try {
      encoder.encode(broken);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AvroEncodeError);
    expect((thrown as AvroEncodeError).paths).toEqual([['fuelPct']]);
    const next = encoder.encode(reading(2));
    expect(type.fromBuffer(next.subarray(5))).toEqual(reading(2));
  });

  it('refuses what registry.encode refuses', async () => {
    const registry = registryWith(SCHEMA_ID);
    const encoder = await wireEncoderFor<VehicleTelemetry>(registry, SCHEMA_ID);
    const broken = { ...reading(1), speedUnit: 'KNOTS' } as unknown as VehicleTelemetry;
    await expect(registry.encode(SCHEMA_ID, broken)).rejects.toThrow();
    expect(() => encoder.encode(broken)).toThrow(AvroEncodeError);
  });
});
