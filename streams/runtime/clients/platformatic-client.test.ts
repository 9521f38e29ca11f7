// The read_committed filter of our own Fetch reader: aborted transactions are skipped even when
// their abort marker is not in the same response, markers only move the position.
import { recordBatch, transactionMarker } from '../../../core/record-batches.fixture.ts';
import { committedRecords } from './platformatic-client.ts';

const batch = recordBatch;
const marker = transactionMarker;

describe('committedRecords', () => {
  it('skips aborted transactions, keeps committed ones and plain records, steps over markers', () => {
    const { records, next } = committedRecords(
      [
        batch(0n, ['a', 'b']),
        batch(2n, ['x1', 'x2'], { producerId: 7n, transactional: true }),
        marker(4n, 7n, false),
        batch(5n, ['c'], { producerId: 8n, transactional: true }),
        marker(6n, 8n, true),
      ],
      [{ producerId: 7n, firstOffset: 2n }],
      0n,
    );
    expect(records.map((r) => r.value?.toString())).toEqual(['a', 'b', 'c']);
    expect(records.map((r) => r.offset)).toEqual(['0', '1', '5']);
    expect(records[1]?.timestamp).toBe(1001);
    expect(records[0]?.headers?.h?.toString()).toBe('a');
    expect(next).toBe(7n);
  });

  it('skips an aborted transaction whose marker is beyond the response', () => {
    const { records, next } = committedRecords(
      [batch(10n, ['ok']), batch(11n, ['gone'], { producerId: 3n, transactional: true })],
      [{ producerId: 3n, firstOffset: 11n }],
      10n,
    );
    expect(records.map((r) => r.value?.toString())).toEqual(['ok']);
    expect(next).toBe(12n);
  });

  it('drops records before the fetch position (a batch may start earlier)', () => {
    const { records } = committedRecords([batch(0n, ['a', 'b', 'c'])], [], 2n);
    expect(records.map((r) => r.offset)).toEqual(['2']);
  });

  it('a marker-only response moves the position', () => {
    expect(committedRecords([marker(9n, 4n, false)], [], 9n)).toEqual({ records: [], next: 10n });
  });
});
