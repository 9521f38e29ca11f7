// Produce requests are cut only where one topic's records would pass the size limit, keeping the
// records' order: a task's changelog flush (one partition per store) goes out in one request.
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

  it("starts a new chunk before one topic's records pass the byte limit, keeping order", () => {
    const records = [record('a', 100), record('b', 100), record('a', 100), record('c', 100)];
    const limit = recordSize(record('a', 100)) * 2;
    const chunks = chunkRecords([...records, record('a', 100), record('b', 100)], limit);
    expect(chunks.map((c) => c.map((r) => r.topic))).toEqual([
      ['a', 'b', 'a', 'c'],
      ['a', 'b'],
    ]);
  });

  it('sends a record larger than the limit on its own', () => {
    const chunks = chunkRecords([record('a', 10), record('a', 5_000), record('a', 10)], 1_000);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
