import { createHash } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { keyPartition, murmur2, Murmur2Partitioner } from './murmur2-partitioner.ts';

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
    offlineReplicas: [],
  }));

describe('murmur2 partitioner', () => {
  it("gives every key the partition kafkajs's DefaultPartitioner gives it", () => {
    const ours = Murmur2Partitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: (Buffer | string)[] = ['', 'a', 'ab', 'abc', 'abcd', 'vehicle-0042', 'SHP-9'];
    // Keys of every length up to 40 with deterministic, well-spread bytes.
    for (let i = 0; i < 2_000; i++)
      keys.push(
        createHash('sha512')
          .update(String(i))
          .digest()
          .subarray(0, i % 41),
      );
    for (let i = 0; i < 200; i++) keys.push(`vehicle-${i}`);
    for (const partitions of [1, 3, 6, 64]) {
      const partitionMetadata = metadata(partitions);
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: null } };
        expect([key, ours(args)]).toEqual([key, theirs(args)]);
      }
    }
  });

  it("matches the Java client's murmur2 on known values", () => {
    // Values from Kafka's UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(
      -58897971,
    );
    expect(keyPartition(Buffer.from('foobar'), 6)).toBe((-790332482 & 0x7fffffff) % 6);
  });

  it('keeps an explicit partition, and spreads keyless records over the partitions', () => {
    const partition = Murmur2Partitioner();
    const partitionMetadata = metadata(4);
    expect(
      partition({
        topic: 't',
        partitionMetadata,
        message: { key: 'k', value: null, partition: 3 },
      }),
    ).toBe(3);
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++)
      seen.add(partition({ topic: 't', partitionMetadata, message: { key: null, value: null } }));
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });
});
