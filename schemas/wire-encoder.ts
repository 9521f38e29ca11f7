// Avro in the Confluent wire format (magic byte 0, the schema id as a 4-byte big-endian int, the
// Avro body) for one schema id, synchronously. registry.encode() gives the same bytes, but per
// record it awaits a schema lookup and allocates three zero-filled buffers (avsc's body, the id,
// the concatenation); here the avsc type is looked up once and a record is a view of a slab.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { ContinuumError, errorMessage } from '../core/errors.ts';

const HEADER_BYTES = 5;

/** A value the schema cannot encode; `paths` are the offending fields, as avsc reports them. */
export class AvroEncodeError extends ContinuumError {
  override readonly code = 'AVRO_ENCODE_FAILED';
  readonly paths: readonly string[][];

  constructor(message: string, options: { cause: unknown; paths: string[][]; schemaId: number }) {
    super(message, { cause: options.cause, context: { schemaId: options.schemaId } });
    this.paths = options.paths;
  }
}

export class WireEncoder<T> {
  readonly schemaId: number;
  private readonly type: avro.Type;
  private readonly slabBytes: number;
  /** The schema id's 4 bytes, big-endian. */
  private readonly id: readonly [number, number, number, number];
  /**
   * Records are encoded one after another into a slab and returned as views of it, as Node's
   * own buffer pool does: no copy and no allocation but the view. A slab is freed once no record
   * of it is referenced any more.
   */
  private slab: Buffer;
  private used = 0;

  constructor(type: avro.Type, schemaId: number, slabBytes = 64 * 1_024) {
    this.type = type;
    this.schemaId = schemaId;
    this.slabBytes = Math.max(slabBytes, HEADER_BYTES + 1);
    const id = Buffer.alloc(4);
    id.writeInt32BE(schemaId, 0);
    this.id = [id[0] ?? 0, id[1] ?? 0, id[2] ?? 0, id[3] ?? 0];
    this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
  }

  /** The record's wire bytes; throws AvroEncodeError, as registry.encode would, if it does not fit the schema. */
  encode(value: T): Buffer {
    for (;;) {
      const { slab } = this;
      const start = this.used;
      let end: number;
      try {
        // avsc returns the number of bytes missing, negated, when the value does not fit.
        end = this.type.encode(value, slab, start + HEADER_BYTES);
      } catch (err) {
        const paths: string[][] = [];
        this.type.isValid(value, { errorHook: (path) => paths.push(path) });
        throw new AvroEncodeError(errorMessage(err), {
          cause: err,
          paths,
          schemaId: this.schemaId,
        });
      }
      if (end >= 0) {
        slab[start] = 0; // magic byte
        slab[start + 1] = this.id[0];
        slab[start + 2] = this.id[1];
        slab[start + 3] = this.id[2];
        slab[start + 4] = this.id[3];
        this.used = end;
        return slab.subarray(start, end);
      }
      // A fresh slab that holds at least this record; the old one's tail is left unused.
      this.slab = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, slab.length - start - end));
      this.used = 0;
    }
  }
}

/** An encoder for a registered Avro schema id, with the avsc type the registry client itself encodes with. */
export async function wireEncoderFor<T>(
  registry: Pick<SchemaRegistry, 'getSchema'>,
  schemaId: number,
): Promise<WireEncoder<T>> {
  const schema: unknown = await registry.getSchema(schemaId);
  if (!avro.Type.isType(schema))
    throw new ContinuumError(`schema ${schemaId} is not an Avro schema`, {
      context: { schemaId },
    });
  return new WireEncoder<T>(schema as avro.Type, schemaId);
}
