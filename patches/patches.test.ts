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
