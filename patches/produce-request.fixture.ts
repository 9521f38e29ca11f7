// A produce request covering what the platform sends (keys and null keys, tombstones, headers
// with string, Buffer and repeated values, record timestamps and none, several topics and
// partitions, transactional and not, uncompressed and gzip), encoded by kafkajs's own request
// framing. patches.test.ts holds the sha256 of these bytes as kafkajs 2.2.4 wrote them, so a
// patch of the produce path that changes one byte fails there.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Encoded {
  buffer: Buffer;
}
type ProduceV3 = (args: {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: {
    topic: string;
    partitions: {
      partition: number;
      firstSequence: number;
      messages: {
        key: Buffer | string | null;
        value: Buffer | string | null;
        timestamp?: number;
        headers?: Record<string, Buffer | string | (Buffer | string)[]>;
      }[];
    }[];
  }[];
}) => { apiKey: number; apiVersion: number; encode: () => Promise<Encoded> };

const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as ProduceV3;
const createRequest = require('kafkajs/src/protocol/request.js') as (args: {
  correlationId: number;
  clientId: string;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<Encoded> };
}) => Promise<Encoded>;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: number): unknown };

/** Deterministic bytes (no Math.random in tests). */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 7 + 3) & 0xff;
  return out;
}

function messages(count: number, seed: number) {
  return Array.from({ length: count }, (_, i) => {
    const n = seed * 1_000 + i;
    return {
      key: i % 7 === 3 ? null : i % 2 === 0 ? `VEH-${n}` : bytes(8 + (i % 5), n),
      value: i % 11 === 5 ? null : bytes(20 + ((i * 53) % 1_500), n),
      ...(i % 4 === 1 ? {} : { timestamp: 1_796_600_000_000 + i * 37 - (i % 3) * 5_000 }),
      ...(i % 3 === 0
        ? {}
        : {
            headers: {
              'continuum.lineage': `raw-${n}`,
              bin: bytes(i % 9, n),
              ...(i % 5 === 0 ? { multi: ['a', bytes(3, n), 'ccc'] } : {}),
            },
          }),
    };
  });
}

/** The produce requests' bytes, in a fixed order: [uncompressed transactional, gzip idempotent]. */
export async function produceRequestFixtures(): Promise<Buffer[]> {
  const topicData = [
    {
      topic: 'telemetry.clean',
      partitions: [
        { partition: 0, firstSequence: 17, messages: messages(300, 1) },
        { partition: 5, firstSequence: 0, messages: messages(1, 2) },
      ],
    },
    {
      topic: 'app-store-changelog',
      partitions: [{ partition: 2, firstSequence: 2_147_483_000, messages: messages(40, 3) }],
    },
  ];
  const requests = [
    produceV3({
      acks: -1,
      timeout: 30_000,
      transactionalId: 'app-0_2',
      producerId: Long.fromValue(4_242),
      producerEpoch: 3,
      topicData,
    }),
    produceV3({
      acks: -1,
      timeout: 30_000,
      producerId: Long.fromValue(77),
      producerEpoch: 0,
      compression: 1, // gzip
      topicData,
    }),
  ];
  // Records without a timestamp get the wall clock's: held still, so the bytes are the same.
  const now = Date.now;
  Date.now = () => 1_796_600_123_456;
  try {
    const out: Buffer[] = [];
    for (const [i, request] of requests.entries())
      out.push(
        Buffer.from(
          (await createRequest({ correlationId: 9 + i, clientId: 'continuum-test', request }))
            .buffer,
        ),
      );
    return out;
  } finally {
    Date.now = now;
  }
}
