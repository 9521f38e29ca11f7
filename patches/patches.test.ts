// The installed dependencies carry our patches (npm ci ran patches/apply.mjs), and the one that
// is about speed, not correctness, gives kafkajs's own result.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { produceRequestFixtures } from './produce-request.fixture.ts';

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

describe('kafkajs crc32C (patched: native CRC-32C when @node-rs/crc32 is installed)', () => {
  const path = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
  const crc = require(path) as (buffer: Buffer) => number;
  const javascript = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (
    buffer: Buffer,
  ) => number;

  it('is the patched file', () => {
    expect(readFileSync(path, 'utf8')).toContain('Continuum patch');
  });

  it("gives kafkajs's own checksum, and the standard CRC-32C check value", () => {
    expect(crc(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    for (let length = 0; length < 3_000; length += 37) {
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = (i * 131 + length * 7) & 0xff;
      expect([length, crc(bytes)]).toEqual([length, javascript(bytes)]);
    }
  });
});

describe('kafkajs Encoder (patched: buffers not zero-filled)', () => {
  const path = require.resolve('kafkajs/src/protocol/encoder.js');
  type Encoder = { buffer: Buffer };
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
    RecordBatch: (args: {
      records: Encoder[];
      firstTimestamp: number;
      maxTimestamp: number;
    }) => Promise<Encoder>;
  };
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (args: {
    offsetDelta: number;
    timestampDelta: number;
    key: Buffer;
    value: Buffer;
    headers: Record<string, Buffer>;
  }) => Encoder;

  /** A record batch of 200 records, encoded with every unzeroed buffer full of `garbage`. */
  async function batch(garbage: number): Promise<string> {
    const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);
    const restore = Object.getOwnPropertyDescriptor(Buffer, 'allocUnsafe');
    let calls = 0;
    Buffer.allocUnsafe = (size: number) => {
      calls += 1;
      return allocUnsafe(size).fill(garbage);
    };
    try {
      return await encode();
    } finally {
      if (restore) Object.defineProperty(Buffer, 'allocUnsafe', restore);
      expect(calls).toBeGreaterThan(200);
    }
  }

  async function encode(): Promise<string> {
    const records = Array.from({ length: 200 }, (_, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: i * 7,
        key: Buffer.from(`VEH-${i}`),
        value: Buffer.alloc(40 + ((i * 53) % 900), i & 0xff),
        headers: { lineage: Buffer.from(`raw-${i}`) },
      }),
    );
    return (await RecordBatch({ records, firstTimestamp: 1, maxTimestamp: 1_400 })).buffer.toString(
      'hex',
    );
  }

  it('is the patched file', () => {
    expect(readFileSync(path, 'utf8')).toContain('Continuum patch');
  });

  it('writes every byte it hands over: the same batch whatever the pool held before', async () => {
    const first = await batch(0xee);
    expect(await batch(0xdd)).toBe(first);
    expect(first).not.toMatch(/(ee){8}|(dd){8}/);
  });
});

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): Promise<void>;
  addPartitionsToTransaction(
    topicData: { topic: string; partitions: { partition: number }[] }[],
  ): Promise<void>;
  sendOffsets(args: {
    consumerGroupId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
}

describe('kafkajs eosManager (patched: CONCURRENT_TRANSACTIONS retried after 20 ms, as the Java client)', () => {
  const path = require.resolve('kafkajs/src/producer/eosManager/index.js');
  const createEosManager = require(path) as (args: {
    logger: unknown;
    cluster: unknown;
    transactional: boolean;
    transactionalId: string;
  }) => EosManager;
  const KafkaJSProtocolError = (
    require('kafkajs/src/errors.js') as {
      KafkaJSProtocolError: new (e: {
        type: string;
        code: number;
        retriable: boolean;
        message: string;
      }) => Error;
    }
  ).KafkaJSProtocolError;
  const protocolError = (type: string, code: number): Error =>
    new KafkaJSProtocolError({ type, code, retriable: true, message: type });
  const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

  /** A transaction coordinator that refuses a request with `errors`, one per call, then accepts. */
  function coordinator(errors: Error[]): {
    broker: Record<string, unknown>;
    calls: Record<string, number>;
  } {
    const calls: Record<string, number> = { addPartitionsToTxn: 0, addOffsetsToTxn: 0 };
    const refuseThenAccept = (name: string) => () => {
      calls[name] = (calls[name] ?? 0) + 1;
      const error = errors.shift();
      return error ? Promise.reject(error) : Promise.resolve({});
    };
    return {
      calls,
      broker: {
        initProducerId: () => Promise.resolve({ producerId: 7, producerEpoch: 0 }),
        addPartitionsToTxn: refuseThenAccept('addPartitionsToTxn'),
        addOffsetsToTxn: refuseThenAccept('addOffsetsToTxn'),
        txnOffsetCommit: () => Promise.resolve({}),
      },
    };
  }

  async function transacting(broker: Record<string, unknown>): Promise<EosManager> {
    const eos = createEosManager({
      logger: { ...logger, namespace: () => logger },
      cluster: {
        retry: { retries: 0 },
        refreshMetadataIfNecessary: () => Promise.resolve(),
        findGroupCoordinator: () => Promise.resolve(broker),
      },
      transactional: true,
      transactionalId: 'tx-1',
    });
    await eos.initProducerId();
    await eos.beginTransaction();
    return eos;
  }

  it('is the patched file', () => {
    expect(readFileSync(path, 'utf8').match(/Continuum patch/g)).toHaveLength(2);
  });

  it('retries AddPartitionsToTxn in place while the previous transaction completes', async () => {
    const { broker, calls } = coordinator([
      protocolError('CONCURRENT_TRANSACTIONS', 51),
      protocolError('CONCURRENT_TRANSACTIONS', 51),
    ]);
    const eos = await transacting(broker);
    await eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);
    expect(calls.addPartitionsToTxn).toBe(3);
    // The partition is in the transaction now: no second request for it.
    await eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]);
    expect(calls.addPartitionsToTxn).toBe(3);
  });

  it('throws any other refusal at once, to the send’s retrier as before', async () => {
    const { broker, calls } = coordinator([protocolError('NOT_COORDINATOR', 16)]);
    const eos = await transacting(broker);
    await expect(
      eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]),
    ).rejects.toThrow('NOT_COORDINATOR');
    expect(calls.addPartitionsToTxn).toBe(1);
  });

  it('retries AddOffsetsToTxn in place too (a transaction that sent no record)', async () => {
    const { broker, calls } = coordinator([protocolError('CONCURRENT_TRANSACTIONS', 51)]);
    const eos = await transacting(broker);
    await eos.sendOffsets({
      consumerGroupId: 'g',
      topics: [{ topic: 't', partitions: [{ partition: 0, offset: '5' }] }],
    });
    expect(calls.addOffsetsToTxn).toBe(2);
  });

  it('gives up after 100 refusals (~2 s), with the refusal', async () => {
    const { broker, calls } = coordinator(
      Array.from({ length: 100 }, () => protocolError('CONCURRENT_TRANSACTIONS', 51)),
    );
    const eos = await transacting(broker);
    await expect(
      eos.addPartitionsToTransaction([{ topic: 't', partitions: [{ partition: 0 }] }]),
    ).rejects.toThrow('CONCURRENT_TRANSACTIONS');
    expect(calls.addPartitionsToTxn).toBe(100);
  });
});

describe('kafkajs produce path (patched: records, batches and requests written with fewer copies)', () => {
  const files = [
    'kafkajs/src/protocol/encoder.js',
    'kafkajs/src/protocol/recordBatch/record/v0/index.js',
    'kafkajs/src/protocol/recordBatch/v0/index.js',
    'kafkajs/src/protocol/requests/produce/v3/request.js',
    'kafkajs/src/protocol/request.js',
  ];

  it('is the patched files', () => {
    for (const file of files)
      expect([file, readFileSync(require.resolve(file), 'utf8')]).toEqual([
        file,
        expect.stringContaining('Continuum patch'),
      ]);
  });

  it('writes the bytes kafkajs 2.2.4 wrote, uncompressed and gzip', async () => {
    // sha256 of produceRequestFixtures() as the unpatched kafkajs 2.2.4 (with the earlier
    // patches: Long-free timestamp deltas, unzeroed buffers) encoded them, taken before this
    // patch was applied.
    const requests = await produceRequestFixtures();
    expect(requests.map((r) => [r.length, createHash('sha256').update(r).digest('hex')])).toEqual([
      [244_480, '142a208c4d1dcae52f925517d303314a3392a593c116b87ec5ab8293a0940ce4'],
      [9_486, '94450ae46577324c993c889e349548dac7044d0743af6ef70b0b45ec19bc7d18'],
    ]);
  });

  it('allocates a record once, whatever its headers (kafkajs: an encoder per header, a Buffer per varint)', () => {
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (args: {
      key: Buffer;
      value: Buffer;
      headers: Record<string, Buffer | string>;
    }) => { buffer: Buffer };
    const allocUnsafe = Object.getOwnPropertyDescriptor(Buffer, 'allocUnsafe')!;
    const from = Object.getOwnPropertyDescriptor(Buffer, 'from')!;
    let allocations = 0;
    const original = {
      allocUnsafe: Buffer.allocUnsafe.bind(Buffer),
      from: Buffer.from.bind(Buffer),
    };
    const countedAlloc = (size: number) => {
      allocations += 1;
      return original.allocUnsafe(size);
    };
    const countedFrom = (...args: Parameters<typeof Buffer.from>) => {
      allocations += 1;
      return original.from(...args);
    };
    Object.defineProperty(Buffer, 'allocUnsafe', { ...allocUnsafe, value: countedAlloc });
    Object.defineProperty(Buffer, 'from', { ...from, value: countedFrom });
    let bytes: Buffer;
    try {
      bytes = Record({
        key: Buffer.from('VEH-1'),
        value: Buffer.alloc(600, 1),
        headers: { a: 'x', b: Buffer.alloc(40, 2), c: 'yy' },
      }).buffer;
    } finally {
      Object.defineProperty(Buffer, 'allocUnsafe', allocUnsafe);
      Object.defineProperty(Buffer, 'from', from);
    }
    // The key's Buffer.from above was counted too.
    expect(allocations).toBe(2);
    expect(bytes.length).toBeGreaterThan(650);
  });
});
