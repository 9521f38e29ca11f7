import { decodeVersions, encodeVersions } from './store-changelog.ts';
import { InMemoryVersionedKeyValueStore } from './versioned-store.ts';

describe('InMemoryVersionedKeyValueStore', () => {
  it('answers the newest version, the version as of a time, and a range, pending writes included', () => {
    const store = new InMemoryVersionedKeyValueStore<string, string>('readings', 60_000);
    store.put('V-1', 'at 10', 10);
    store.put('V-1', 'at 30', 30);
    store.commit();
    store.put('V-1', 'at 20', 20);
    expect(store.get('V-1')).toEqual({ value: 'at 30', timestamp: 30 });
    expect(store.getAsOf('V-1', 25)).toEqual({ value: 'at 20', timestamp: 20 });
    expect(store.getAsOf('V-1', 9)).toBeUndefined();
    expect(store.range('V-1', 10, 20).map((v) => v.value)).toEqual(['at 10', 'at 20']);
    expect(store.observedStreamTime).toBe(30);
  });

  it('replaces a version put again at the same timestamp, and abort drops pending versions', () => {
    const store = new InMemoryVersionedKeyValueStore<string, string>('readings', 60_000);
    store.put('V-1', 'first', 10);
    store.commit();
    store.put('V-1', 'second', 10);
    expect(store.get('V-1')?.value).toBe('second');
    store.abort();
    expect(store.get('V-1')?.value).toBe('first');
  });

  it('commit returns the versions appended per key, which restore replays into the same history', () => {
    const store = new InMemoryVersionedKeyValueStore<string, number>('readings', 60_000);
    store.put('V-1', 1, 1_000);
    store.put('V-1', 2, 2_000);
    store.put('V-2', 9, 1_500);
    const first = store.commit();
    store.put('V-1', 3, 3_000);
    const second = store.commit();
    expect(first).toEqual([
      {
        key: 'V-1',
        versions: [
          { value: 1, timestamp: 1_000 },
          { value: 2, timestamp: 2_000 },
        ],
      },
      { key: 'V-2', versions: [{ value: 9, timestamp: 1_500 }] },
    ]);
    const restored = new InMemoryVersionedKeyValueStore<string, number>('readings', 60_000);
    for (const entry of [...first, ...second]) restored.restore(entry);
    expect(restored.range('V-1', 0, 10_000)).toEqual(store.range('V-1', 0, 10_000));
    expect(restored.getAsOf('V-2', 2_000)?.value).toBe(9);
  });

  it('forgets versions older than the history retention, but never the newest of a key', () => {
    const store = new InMemoryVersionedKeyValueStore<string, number>('readings', 1_000);
    for (let t = 0; t < 200; t++) store.put('busy', t, t * 100);
    store.put('quiet', 1, 0);
    store.commit();
    // Stream time 19,900: versions before 18,900 are past retention.
    expect(store.getAsOf('busy', 1_000)).toBeUndefined();
    expect(store.range('busy', 18_900, 20_000)).toHaveLength(11);
    expect(store.get('quiet')).toEqual({ value: 1, timestamp: 0 });
  });
});

describe('versioned changelog framing', () => {
  it('round-trips versions, empty values included, and refuses a cut record', () => {
    const bytes = encodeVersions([
      [1_767_000_000_000, Buffer.from('{"a":1}')],
      [1_767_000_000_001, Buffer.alloc(0)],
    ]);
    expect(decodeVersions(bytes, 's').map(([t, b]) => [t, b.toString()])).toEqual([
      [1_767_000_000_000, '{"a":1}'],
      [1_767_000_000_001, ''],
    ]);
    expect(() => decodeVersions(bytes.subarray(0, bytes.length - 3), 's')).toThrow(/cut short/);
  });
});
