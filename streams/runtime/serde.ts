// Serializers/deserializers at the edges of a topology. Avro goes through the schema registry
// (Confluent wire format); processors only ever see typed values.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { DecodeError, errorMessage } from '../../core/errors.ts';
import { wireEncoderFor, type WireEncoder } from '../../schemas/wire-encoder.ts';

/** Magic byte and schema id in front of every Avro body. */
const HEADER_BYTES = 5;

export interface Serde<T> {
  serialize(value: T): Buffer | null | Promise<Buffer | null>;
  deserialize(bytes: Buffer | null): T | Promise<T>;
}

/**
 * Whether a serde answered with a promise. Every serde here answers synchronously; awaiting its
 * plain value anyway costs a microtask turn per call, several per record (the backlog
 * benchmark's profile had them at ~5 % of the process), so the runtime awaits only promises.
 */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export const stringSerde: Serde<string> = {
  serialize: (value) => Buffer.from(value, 'utf8'),
  deserialize: (bytes) => {
    if (bytes === null) throw new DecodeError('expected a string key or value, got null');
    return bytes.toString('utf8');
  },
};

export function jsonSerde<T>(): Serde<T> {
  return {
    serialize: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
    deserialize: (bytes) => {
      if (bytes === null) throw new DecodeError('expected JSON, got null');
      try {
        return JSON.parse(bytes.toString('utf8')) as T;
      } catch (err) {
        throw new DecodeError(`not JSON: ${errorMessage(err)}`, { cause: err });
      }
    },
  };
}

/**
 * Avro values in the Confluent wire format; `schemaId` is the id to write with. The registry is
 * asked once per schema id: after that, records are encoded (WireEncoder, into a slab) and
 * decoded with the schema's avsc type synchronously. registry.encode/decode gave the same bytes
 * and values, but awaited a lookup and allocated three zero-filled buffers per record (~6 % of
 * the pipeline benchmark's CPU, with the microtasks of two awaits per record).
 */
export function avroSerde<T>(
  registry: Pick<SchemaRegistry, 'getSchema'>,
  schemaId: number,
): Serde<T> {
  let encoder: WireEncoder<T> | undefined;
  let loadingEncoder: Promise<WireEncoder<T>> | undefined;
  const readers = new Map<number, avro.Type>();
  const decode = (type: avro.Type, bytes: Buffer, id: number): T => {
    try {
      return type.fromBuffer(bytes.subarray(HEADER_BYTES)) as T;
    } catch (err) {
      throw new DecodeError(`Avro decode failed (schema id ${id}): ${errorMessage(err)}`, {
        cause: err,
      });
    }
  };
  return {
    serialize: (value) => {
      if (encoder) return encoder.encode(value);
      loadingEncoder ??= wireEncoderFor<T>(registry, schemaId).then(
        (loaded) => (encoder = loaded),
        (err: unknown) => {
          loadingEncoder = undefined;
          throw err;
        },
      );
      return loadingEncoder.then((loaded) => loaded.encode(value));
    },
    deserialize: (bytes) => {
      if (bytes === null) throw new DecodeError('expected an Avro value, got null (tombstone)');
      if (bytes.length < HEADER_BYTES || bytes[0] !== 0) {
        throw new DecodeError(
          `not the Confluent wire format: magic byte ${bytes[0] ?? 'missing'}, ${bytes.length} bytes`,
        );
      }
      const id = bytes.readInt32BE(1);
      const reader = readers.get(id);
      if (reader) return decode(reader, bytes, id);
      return registry.getSchema(id).then(
        (schema: unknown) => {
          if (!avro.Type.isType(schema))
            throw new DecodeError(`schema ${id} is not an Avro schema`, { context: { id } });
          readers.set(id, schema as avro.Type);
          return decode(schema as avro.Type, bytes, id);
        },
        (err: unknown) => {
          throw new DecodeError(`Avro decode failed (schema id ${id}): ${errorMessage(err)}`, {
            cause: err,
          });
        },
      );
    },
  };
}
