import { InMemoryKeyValueStore } from './state-store.ts';

describe('InMemoryKeyValueStore', () => {
  it('reads its own pending writes, and commit returns them as changelog entries with tombstones', () => {
    const store = new InMemoryKeyValueStore<string, number>('counts');
    store.put('a', 1);
    store.put('b', 2);
    expect(store.commit()).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    store.put('a', 5);
    store.delete('b');
    expect(store.get('a')).toBe(5);
    expect(store.get('b')).toBeUndefined();
    expect(store.all()).toEqual([['a', 5]]);
    expect(store.commit()).toEqual([
      { key: 'a', value: 5 },
      { key: 'b', value: null },
    ]);
    expect(store.uncommitted()).toEqual([]);
  });

  it('abort drops uncommitted writes: the store never runs ahead of the committed transaction', () => {
    const store = new InMemoryKeyValueStore<string, number>('counts');
    store.put('a', 1);
    store.commit();
    store.put('a', 2);
    store.put('c', 3);
    store.delete('a');
    store.abort();
    expect(store.all()).toEqual([['a', 1]]);
    expect(store.size).toBe(1);
  });

  it('restores from changelog entries, tombstones included', () => {
    const store = new InMemoryKeyValueStore<{ id: number }, string>('objects');
    store.restore({ key: { id: 1 }, value: 'one' });
    store.restore({ key: { id: 2 }, value: 'two' });
    store.restore({ key: { id: 1 }, value: null });
    expect(store.all()).toEqual([[{ id: 2 }, 'two']]);
    expect(store.get({ id: 2 })).toBe('two');
  });
});

describe('stored values', () => {
  it('are frozen, so a change in place cannot escape rollback', () => {
    const store = new InMemoryKeyValueStore<string, { n: number; tags: string[] }>('s');
    store.put('a', { n: 1, tags: ['x'] });
    store.commit();
    const got = store.get('a');
    expect(() => {
      if (got) got.n = 2;
    }).toThrow(TypeError);
    expect(() => got?.tags.push('y')).toThrow(TypeError);
    store.put('a', { ...got!, n: 3 });
    store.abort();
    expect(store.get('a')).toEqual({ n: 1, tags: ['x'] });
  });

  it('may hold bytes', () => {
    const store = new InMemoryKeyValueStore<string, { raw: Buffer }>('s');
    store.put('a', { raw: Buffer.from('hi') });
    expect(store.get('a')?.raw.toString()).toBe('hi');
  });
});

describe('a store with a time index', () => {
  const expiring = () =>
    new InMemoryKeyValueStore<string, { until: number | null }>('ttl', undefined, {
      timeIndex: (v) => v.until ?? undefined,
    });

  it('answers keysBefore from pending and committed writes, and drops deleted keys', () => {
    const store = expiring();
    store.put('a', { until: 30 });
    store.put('b', { until: 10 });
    store.put('never', { until: null });
    store.commit();
    store.put('c', { until: 20 });
    store.delete('b');
    expect(store.keysBefore(31)).toEqual(['c', 'a']);
    expect(store.keysBefore(Number.POSITIVE_INFINITY)).not.toContain('never');
    expect(store.size).toBe(3);
  });

  it('rolls the index back with an abort, and rebuilds it on restore', () => {
    const store = expiring();
    store.put('a', { until: 30 });
    store.commit();
    store.put('a', { until: 5 });
    store.put('new', { until: 1 });
    store.abort();
    expect(store.keysBefore(31)).toEqual(['a']);
    const restored = expiring();
    restored.restore({ key: 'x', value: { until: 7 } });
    restored.restore({ key: 'y', value: { until: 3 } });
    restored.restore({ key: 'x', value: null });
    expect(restored.keysBefore(100)).toEqual(['y']);
  });

  it('refuses keysBefore without an index', () => {
    expect(() => new InMemoryKeyValueStore('plain').keysBefore(1)).toThrow(/no time index/);
  });
});
