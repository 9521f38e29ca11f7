// Produce requests are cut per topic and below the size limit, keeping the records' order.
import { chunkRecords, recordSize, type ProducedRecord } from './kafka-port.ts';

function record(topic: string, bytes: number): ProducedRecord {
  return { topic, key: Buffer.from('k'), value: Buffer.alloc(bytes), timestamp: 1 };
}

describe('chunkRecords', () => {
  it('keeps order, splits on topic changes and before the byte limit', () => {
    const records = [record('a', 100), record('a', 100), record('b', 100), record('a', 100)];
    const limit = recordSize(records[0] ?? record('a', 100)) * 2;
    const chunks = chunkRecords([...records, record('a', 100), record('a', 100)], limit);
    expect(chunks.map((c) => [c.topic, c.records.length])).toEqual([
      ['a', 2],
      ['b', 1],
      ['a', 2],
      ['a', 1],
    ]);
  });

  it('sends a record larger than the limit on its own', () => {
    const chunks = chunkRecords([record('a', 10), record('a', 5_000), record('a', 10)], 1_000);
    expect(chunks.map((c) => c.records.length)).toEqual([1, 1, 1]);
  });
});
