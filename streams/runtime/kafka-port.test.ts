// Produce requests are cut below the size limit only, keeping the records' order: a set of
// records that fits (a task's changelog flush) goes out in one request per broker.
import { chunkRecords, recordSize, type ProducedRecord } from './kafka-port.ts';

function record(topic: string, bytes: number): ProducedRecord {
  return { topic, key: Buffer.from('k'), value: Buffer.alloc(bytes), timestamp: 1 };
}

describe('chunkRecords', () => {
  it('keeps order and mixes topics in one chunk while they fit', () => {
    const records = [record('a', 100), record('b', 100), record('c', 100), record('a', 100)];
    const chunks = chunkRecords(records, 10 * recordSize(record('a', 100)));
    expect(chunks).toEqual([records]);
  });

  it('splits before the byte limit, keeping order', () => {
    const records = [record('a', 100), record('b', 100), record('a', 100), record('c', 100)];
    const limit = recordSize(record('a', 100)) * 2;
    const chunks = chunkRecords([...records, record('a', 100)], limit);
    expect(chunks.map((c) => c.map((r) => r.topic))).toEqual([['a', 'b'], ['a', 'c'], ['a']]);
  });

  it('sends a record larger than the limit on its own', () => {
    const chunks = chunkRecords([record('a', 10), record('a', 5_000), record('a', 10)], 1_000);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
