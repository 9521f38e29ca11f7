import type { RecordsBatch } from '@platformatic/kafka';
import { firstReadableRecord } from './partition-tails.ts';
import { recordBatch, transactionMarker } from './record-batches.fixture.ts';

/** A batch of `count` records from `firstOffset`. */
const batch = (
  firstOffset: bigint,
  count: number,
  options: { producerId?: bigint; transactional?: boolean } = {},
): RecordsBatch =>
  recordBatch(
    firstOffset,
    Array.from({ length: count }, (_, i) => `v${i}`),
    options,
  );

/** A transaction marker of `producerId` at `offset` (type 0: abort, 1: commit). */
const marker = (offset: bigint, producerId: bigint, type: 0 | 1): RecordsBatch =>
  transactionMarker(offset, producerId, type === 1);

const fetched = (
  records: RecordsBatch[],
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] = [],
) => ({ errorCode: 0, abortedTransactions, records });

describe('firstReadableRecord', () => {
  it('finds nothing to read behind a commit marker', () => {
    // records 0..3 committed by the marker at 4; a group committed 4 (end 5).
    const response = fetched([marker(4n, 7n, 1)]);
    expect(firstReadableRecord(response, 4n, 5n)).toEqual({
      kind: 'records-from',
      from: 4n,
      first: undefined,
    });
  });

  it('finds the first committed record after the committed offset', () => {
    const response = fetched([
      batch(4n, 3, { producerId: 7n, transactional: true }),
      marker(7n, 7n, 1),
    ]);
    expect(firstReadableRecord(response, 5n, 8n)).toEqual({
      kind: 'records-from',
      from: 5n,
      first: 5n,
    });
  });

  it('skips an aborted transaction and its abort marker, then sees what a later one committed', () => {
    const response = fetched(
      [
        batch(10n, 2, { producerId: 7n, transactional: true }),
        marker(12n, 7n, 0),
        batch(13n, 1, { producerId: 7n, transactional: true }),
        marker(14n, 7n, 1),
      ],
      [{ producerId: 7n, firstOffset: 10n }],
    );
    expect(firstReadableRecord(response, 10n, 15n)).toEqual({
      kind: 'records-from',
      from: 10n,
      first: 13n,
    });
    // Up to the abort marker only: nothing readable.
    expect(
      firstReadableRecord({ ...response, records: response.records.slice(0, 2) }, 10n, 13n),
    ).toEqual({ kind: 'records-from', from: 10n, first: undefined });
  });

  it('reads records of a plain producer, and of another producer inside an aborted range', () => {
    const response = fetched(
      [
        batch(20n, 1, { producerId: 7n, transactional: true }),
        batch(21n, 1, { producerId: 8n, transactional: true }),
        marker(22n, 7n, 0),
        marker(23n, 8n, 1),
      ],
      [{ producerId: 7n, firstOffset: 20n }],
    );
    expect(firstReadableRecord(response, 20n, 24n)?.kind).toBe('records-from');
    expect(firstReadableRecord(response, 20n, 24n)).toMatchObject({ first: 21n });
    expect(firstReadableRecord(fetched([batch(30n, 2)]), 30n, 32n)).toMatchObject({ first: 30n });
  });

  it('says nothing when the response stops short of the end or carries an error', () => {
    // An open transaction holds the stable offset at 4: the fetch stops there.
    expect(firstReadableRecord(fetched([]), 4n, 9n)).toBeUndefined();
    expect(firstReadableRecord(fetched([marker(4n, 7n, 1)]), 4n, 9n)).toBeUndefined();
    expect(
      firstReadableRecord({ ...fetched([marker(4n, 7n, 1)]), errorCode: 1 }, 4n, 5n),
    ).toBeUndefined();
  });

  it('ignores records of a batch that lie before the committed offset', () => {
    // A batch 0..4 fetched whole from its start; the group committed 4, itself a record.
    expect(firstReadableRecord(fetched([batch(0n, 5)]), 4n, 5n)).toMatchObject({ first: 4n });
    // committed 5 within a batch fetched from its start: nothing from 5 before the end 5.
    expect(firstReadableRecord(fetched([batch(0n, 5)]), 5n, 5n)).toMatchObject({
      first: undefined,
    });
  });
});
