import { partitionDrained, partitionLag } from './group-drained.ts';

describe('partitionDrained', () => {
  it('needs the end offset on a partition written without transactions', () => {
    expect(partitionDrained(100n, 99n, { kind: 'plain' })).toBe(false);
    expect(partitionDrained(100n, 100n, { kind: 'plain' })).toBe(true);
    expect(partitionDrained(100n, undefined, { kind: 'plain' })).toBe(false);
  });

  it('accepts the offset of the closing marker on a partition written in transactions', () => {
    // records at 0..98, the commit marker at 99: committing 99 or 100 both mean "all read".
    const tail = { kind: 'transactional' } as const;
    expect(partitionDrained(100n, 98n, tail)).toBe(false);
    expect(partitionDrained(100n, 99n, tail)).toBe(true);
    expect(partitionDrained(100n, 100n, tail)).toBe(true);
  });

  it('lets a known last record decide, whatever markers or aborted records follow it', () => {
    // last record at 90, then an aborted transaction's records and markers up to 99.
    const tail = { kind: 'last-record', offset: 90n } as const;
    expect(partitionDrained(100n, 90n, tail)).toBe(false);
    expect(partitionDrained(100n, 91n, tail)).toBe(true);
    expect(partitionDrained(100n, undefined, tail)).toBe(false);
    // Only markers and aborted records: nothing to read, drained with nothing committed.
    expect(partitionDrained(100n, undefined, { kind: 'last-record', offset: undefined })).toBe(
      true,
    );
  });

  it('takes a read from the committed offset that found only markers and aborted records as drained', () => {
    // committed 97; 97 an aborted record, 98 its abort marker, 99 a commit marker.
    expect(partitionDrained(100n, 97n, { kind: 'records-from', from: 97n, first: undefined })).toBe(
      true,
    );
    expect(partitionDrained(100n, 97n, { kind: 'records-from', from: 97n, first: 98n })).toBe(
      false,
    );
    // A read from elsewhere says nothing of this committed offset.
    expect(partitionDrained(100n, 96n, { kind: 'records-from', from: 97n, first: undefined })).toBe(
      false,
    );
    expect(
      partitionDrained(100n, undefined, { kind: 'records-from', from: 0n, first: undefined }),
    ).toBe(false);
  });

  it('counts an empty partition as drained with nothing committed', () => {
    expect(partitionDrained(0n, undefined, { kind: 'plain' })).toBe(true);
    expect(partitionDrained(0n, undefined, { kind: 'transactional' })).toBe(true);
  });
});

describe('partitionLag', () => {
  it('is the distance to the end until the partition is drained, then 0', () => {
    expect(partitionLag(100n, 40n, { kind: 'plain' })).toBe(60);
    expect(partitionLag(100n, undefined, { kind: 'transactional' })).toBe(100);
    expect(partitionLag(100n, 99n, { kind: 'transactional' })).toBe(0);
    expect(partitionLag(100n, 95n, { kind: 'last-record', offset: 94n })).toBe(0);
  });
});
