// The consumer-side duplicate rule: drop a change whose (commitLsn, lsn) is not after the last applied.
import type { ShipmentChange } from './types.ts';
import { isDuplicateChange } from './change-marks.ts';

function at(commitLsn: number, lsn: number): Pick<ShipmentChange, 'source'> {
  return { source: { commitLsn, lsn, txId: 1, table: 'public.shipments', snapshot: lsn === 0 } };
}

describe('isDuplicateChange', () => {
  test('nothing applied yet: never a duplicate', () => {
    expect(isDuplicateChange(undefined, at(100, 90))).toBe(false);
  });

  test('the very change applied last is a duplicate (redelivered after a crash)', () => {
    expect(isDuplicateChange({ commitLsn: 100, lsn: 90 }, at(100, 90))).toBe(true);
  });

  test('an earlier change of the same transaction is a duplicate, a later one is not', () => {
    expect(isDuplicateChange({ commitLsn: 100, lsn: 90 }, at(100, 80))).toBe(true);
    expect(isDuplicateChange({ commitLsn: 100, lsn: 90 }, at(100, 95))).toBe(false);
  });

  test('commit order decides across transactions, whatever the change LSNs', () => {
    // A transaction that started earlier (smaller change LSN) but committed later is new.
    expect(isDuplicateChange({ commitLsn: 100, lsn: 90 }, at(200, 50))).toBe(false);
    expect(isDuplicateChange({ commitLsn: 200, lsn: 50 }, at(100, 90))).toBe(true);
  });

  test('snapshot reads sort before the streamed changes that follow them', () => {
    const snapshot = at(1000, 0);
    expect(isDuplicateChange({ commitLsn: 1000, lsn: 0 }, snapshot)).toBe(true);
    expect(isDuplicateChange({ commitLsn: 1000, lsn: 0 }, at(1100, 1050))).toBe(false);
  });
});
