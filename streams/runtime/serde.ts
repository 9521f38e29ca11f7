// Serializers/deserializers at the edges of a topology. Avro goes through the schema registry
// (Confluent wire format); processors only ever see typed values.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { DecodeError, errorMessage } from '../../core/errors.ts';

export interface Serde<T> {
  serialize(value: T): Buffer | null | Promise<Buffer | null>;
  deserialize(bytes: Buffer | null): T | Promise<T>;
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

/** Avro values in the Confluent wire format; `schemaId` is the id to write with. */
export function avroSerde<T>(registry: SchemaRegistry, schemaId: number): Serde<T> {
  return {
    serialize: (value) => registry.encode(schemaId, value),
    deserialize: async (bytes) => {
      if (bytes === null) throw new DecodeError('expected an Avro value, got null (tombstone)');
      if (bytes.length < 5 || bytes[0] !== 0) {
        throw new DecodeError(
          `not the Confluent wire format: magic byte ${bytes[0] ?? 'missing'}, ${bytes.length} bytes`,
        );
      }
      try {
        return (await registry.decode(bytes)) as T;
      } catch (err) {
        throw new DecodeError(
          `Avro decode failed (schema id ${bytes.readInt32BE(1)}): ${errorMessage(err)}`,
          { cause: err },
        );
      }
    },
  };
}
