// Zod schemas derived from the Avro contracts in schemas/avro, so the API validates and documents
// exactly what Kafka carries: one source of truth, no hand-copied field lists to drift.
import { z } from 'zod';
import { parseAvroSchema, type AvroNode, type AvroRecordNode } from '../../schemas/avro-model.ts';
import { loadAvroSchema, type EventSchemaName } from '../../schemas/event-schemas.ts';

// Avro `long` holds 64 bits; JSON numbers are exact only up to 2^53, which is what JavaScript
// reads the values as anyway.
const long = (): z.ZodNumber =>
  z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

function zodOf(node: AvroNode, doc: string | undefined): z.ZodType {
  const described = <T extends z.ZodType>(schema: T): T =>
    doc === undefined ? schema : schema.describe(doc);
  switch (node.kind) {
    case 'primitive':
      switch (node.type) {
        case 'null':
          return described(z.null());
        case 'boolean':
          return described(z.boolean());
        case 'int':
          return described(
            z
              .number()
              .int()
              .min(-(2 ** 31))
              .max(2 ** 31 - 1),
          );
        case 'long':
          return described(
            node.logicalType === 'timestamp-millis'
              ? long().describe(`${doc ?? ''} (epoch milliseconds)`.trim())
              : long(),
          );
        case 'float':
        case 'double':
          return described(z.number());
        case 'bytes':
        case 'string':
          return described(z.string());
      }
      break;
    case 'enum':
      return described(z.enum(node.symbols as [string, ...string[]]));
    case 'array':
      return described(z.array(zodOf(node.items, undefined)));
    case 'map':
      return described(z.record(z.string(), zodOf(node.values, undefined)));
    case 'union': {
      const nonNull = node.branches.filter((b) => !(b.kind === 'primitive' && b.type === 'null'));
      const nullable = nonNull.length < node.branches.length;
      const inner =
        nonNull.length === 1
          ? zodOf(nonNull[0] as AvroNode, undefined)
          : z.union(nonNull.map((b) => zodOf(b, undefined)) as [z.ZodType, z.ZodType]);
      return described(nullable ? inner.nullable() : inner);
    }
    case 'record':
      return described(recordZod(node));
    case 'fixed':
      return described(z.string());
  }
  throw new Error('no zod schema for this Avro node');
}

function recordZod(record: AvroRecordNode): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const field of record.fields) shape[field.name] = zodOf(field.type, field.doc);
  // Unknown properties are an error, as they would be for an Avro writer.
  return z.strictObject(shape);
}

/** The record contract `name` as a strict zod object (every field required, as Avro writes them). */
export function avroRecordSchema(name: EventSchemaName): z.ZodObject {
  const node = parseAvroSchema(loadAvroSchema(name));
  if (node.kind !== 'record') throw new Error(`${name} is not an Avro record`);
  return recordZod(node).describe(node.doc ?? name);
}

/**
 * For input: fields with an Avro default may be left out (a writer fills them in), so the input
 * contract is the record with those fields optional.
 */
export function avroRecordInputSchema(name: EventSchemaName): z.ZodObject {
  const node = parseAvroSchema(loadAvroSchema(name));
  if (node.kind !== 'record') throw new Error(`${name} is not an Avro record`);
  const shape: Record<string, z.ZodType> = {};
  for (const field of node.fields) {
    const schema = zodOf(field.type, field.doc);
    shape[field.name] = field.hasDefault ? schema.default(field.default as never) : schema;
  }
  return z.strictObject(shape).describe(node.doc ?? name);
}
