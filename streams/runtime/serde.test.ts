import avro from 'avsc';
import { DecodeError } from '../../core/errors.ts';
import { avroSerde } from './serde.ts';

const type = avro.Type.forSchema({
  type: 'record',
  name: 'Reading',
  fields: [
    { name: 'vehicleId', type: 'string' },
    { name: 'speed', type: 'double' },
  ],
});

/** The Confluent wire format, as registry.encode writes it. */
function wire(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

function registry(schemas: Record<number, unknown>) {
  const asked: number[] = [];
  return {
    asked,
    getSchema: (id: number) => {
      asked.push(id);
      const schema = schemas[id];
      return schema === undefined
        ? Promise.reject(new Error(`Schema ${id} not found`))
        : Promise.resolve(schema as avro.Type);
    },
  };
}

describe('avroSerde', () => {
  it('writes the Confluent wire format and reads it back, asking the registry once per id', async () => {
    const reg = registry({ 7: type });
    const serde = avroSerde<{ vehicleId: string; speed: number }>(reg, 7);
    const values = Array.from({ length: 3_000 }, (_, i) => ({ vehicleId: `v-${i}`, speed: i / 3 }));
    const encoded: Buffer[] = [];
    for (const value of values) encoded.push((await serde.serialize(value)) as Buffer);
    expect(encoded.map((b) => b.toString('hex'))).toEqual(
      values.map((v) => wire(7, type.toBuffer(v)).toString('hex')),
    );
    const decoded = [];
    for (const bytes of encoded) decoded.push(await serde.deserialize(bytes));
    expect(decoded).toEqual(values);
    expect(reg.asked).toEqual([7, 7]); // once for the encoder, once for the reader
  });

  it('dead-letters what it cannot read as DecodeError: tombstones, other formats, unknown ids, bad bodies', async () => {
    const serde = avroSerde<unknown>(registry({ 7: type }), 7);
    expect(() => serde.deserialize(null)).toThrow(DecodeError);
    expect(() => serde.deserialize(Buffer.from('{"json":true}'))).toThrow(DecodeError);
    await expect(
      serde.deserialize(wire(8, type.toBuffer({ vehicleId: 'v', speed: 1 }))),
    ).rejects.toThrow(/schema id 8/);
    await expect(serde.deserialize(wire(7, Buffer.from([0x09])))).rejects.toBeInstanceOf(
      DecodeError,
    );
  });

  it('fails a value the schema cannot encode, and asks the registry again after a failed lookup', async () => {
    const schemas: Record<number, unknown> = {};
    const reg = registry(schemas);
    const serde = avroSerde<unknown>(reg, 7);
    await expect(serde.serialize({ vehicleId: 'v', speed: 1 })).rejects.toThrow(/not found/);
    schemas[7] = type;
    await expect(serde.serialize({ vehicleId: 1 })).rejects.toThrow();
    expect(await serde.serialize({ vehicleId: 'v', speed: 1 })).toEqual(
      wire(7, type.toBuffer({ vehicleId: 'v', speed: 1 })),
    );
    expect(reg.asked).toEqual([7, 7]);
  });
});
