// The installed dependencies carry our patches (npm ci ran patches/apply.mjs), and the one that
// is about speed, not correctness, gives kafkajs's own result.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

type Group = (args: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  messages: { key: string; value: string }[];
  partitioner: (args: { message: { key: string } }) => number;
}) => Record<number, { key: string; value: string }[]>;

describe('kafkajs groupMessagesPerPartition (patched: one pass, not quadratic)', () => {
  const path = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
  const group = require(path) as Group;

  it('is the patched file', () => {
    expect(readFileSync(path, 'utf8')).toContain('Continuum patch');
  });

  it('groups a send’s messages per partition, in order, as kafkajs did', () => {
    const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const grouped = group({
      topic: 't',
      partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }],
      messages,
      partitioner: ({ message }) => Number(message.key.slice(1)) % 3,
    });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2']);
    expect(grouped[1]?.map((m) => m.key)).toEqual(['k1', 'k4', 'k7']);
    expect(grouped[0]?.map((m) => m.key)).toEqual(['k0', 'k3', 'k6', 'k9']);
    expect(group({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 })).toEqual(
      {},
    );
  });
});

type RecordV0 = (args: {
  offsetDelta?: number;
  timestampDelta?: number;
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string>;
}) => { buffer: Buffer };

interface KafkajsEncoder {
  writeVarInt(value: number): KafkajsEncoder;
  writeInt8(value: number): KafkajsEncoder;
  writeVarLong(value: number): KafkajsEncoder;
  writeVarIntBytes(value: string | Buffer | null): KafkajsEncoder;
  writeVarIntArray(values: unknown[]): KafkajsEncoder;
  buffer: Buffer;
}

describe('kafkajs record v0 (patched: an int32 timestamp delta as a varint, not through Long)', () => {
  const path = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
  const record = require(path) as RecordV0;
  const Encoder = require('kafkajs/src/protocol/encoder.js') as {
    new (): KafkajsEncoder;
    sizeOfVarLong(value: number): number;
    sizeOfVarInt(value: number): number;
    sizeOfVarIntBytes(value: string | Buffer | null): number;
  };

  /** The record as kafkajs 2.2.4 wrote it: the delta always as a varlong (no headers). */
  function unpatched(timestampDelta: number, offsetDelta: number, key: string, value: Buffer) {
    const size =
      1 +
      Encoder.sizeOfVarLong(timestampDelta) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(key) +
      Encoder.sizeOfVarIntBytes(value) +
      Encoder.sizeOfVarInt(0);
    return new Encoder()
      .writeVarInt(size)
      .writeInt8(0)
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(key)
      .writeVarIntBytes(value)
      .writeVarIntArray([]).buffer;
  }

  it('is the patched file', () => {
    expect(readFileSync(path, 'utf8')).toContain('Continuum patch');
  });

  it('writes the bytes kafkajs wrote, for deltas in and out of the int32 range', () => {
    const deltas = [0, 1, -1, 63, 64, -64, -65, 8_191, 8_192, 100_000, 2 ** 30 - 1, 2 ** 30];
    deltas.push(-(2 ** 30), -(2 ** 30) - 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1);
    deltas.push(2 ** 32, 2 ** 40, -(2 ** 40), 2 ** 52, Number.MAX_SAFE_INTEGER);
    // A deterministic spread of magnitudes (no Math.random in tests).
    for (let bits = 0, x = 1; bits < 53; bits++, x *= 2) deltas.push(x + 12_345, -x - 7);
    const value = Buffer.from('avro body');
    for (const delta of deltas) {
      const bytes = record({ offsetDelta: 5, timestampDelta: delta, key: 'VEH-0001', value });
      expect(bytes.buffer.toString('hex')).toBe(
        unpatched(delta, 5, 'VEH-0001', value).toString('hex'),
      );
    }
  });
});
