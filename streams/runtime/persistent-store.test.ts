import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import { createLogger } from '../../core/logger.ts';
import { jsonSerde, stringSerde } from './serde.ts';
import { StateDirectory, StateDirectoryLockedError } from './state-directory.ts';
import type { StoreSpec } from './topology.ts';

const log = createLogger('silent');

interface Parcel {
  depot: string;
  dueAt: number;
}

const spec: StoreSpec<string, Parcel> = {
  name: 'parcels',
  serdes: { key: stringSerde, value: jsonSerde<Parcel>() },
  timeIndex: (p) => p.dueAt,
};

describe('PersistentKeyValueStore and StateDirectory', () => {
  let stateDir: string;
  let directory: StateDirectory;

  beforeEach(() => {
    stateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-store-'));
    directory = StateDirectory.open(stateDir, 'app', log);
  });

  afterEach(async () => {
    await directory.close().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('keeps writes pending until commit, drops them on abort, and reads merged in key order', () => {
    const store = directory.store(0, spec);
    store.put('b', { depot: 'HAM', dueAt: 20 });
    store.put('a', { depot: 'BER', dueAt: 10 });
    expect(store.commit()).toHaveLength(2);
    store.put('c', { depot: 'MUC', dueAt: 5 });
    store.delete('b');
    expect(store.all().map(([k]) => k)).toEqual(['a', 'c']);
    expect(store.size).toBe(2);
    expect(store.keysBefore(15)).toEqual(['c', 'a']);
    store.abort();
    expect(store.all()).toEqual([
      ['a', { depot: 'BER', dueAt: 10 }],
      ['b', { depot: 'HAM', dueAt: 20 }],
    ]);
    expect(store.keysBefore(15)).toEqual(['a']);
  });

  it('what was committed is on disk for the next opening, time index included', async () => {
    const store = directory.store(3, spec);
    for (let i = 0; i < 25_000; i++)
      store.restore({ key: `k${i}`, value: { depot: 'X', dueAt: i } });
    store.restored();
    store.put('k0', { depot: 'Y', dueAt: 1_000_000 });
    store.commit();
    store.put('uncommitted', { depot: 'Z', dueAt: 0 });
    await directory.close();

    directory = StateDirectory.open(stateDir, 'app', log);
    const reopened = directory.store(3, spec);
    expect(reopened.size).toBe(25_000);
    expect(reopened.get('k0')).toEqual({ depot: 'Y', dueAt: 1_000_000 });
    expect(reopened.get('uncommitted')).toBeUndefined();
    expect(reopened.keysBefore(3)).toEqual(['k1', 'k2']);
    // Another task's store of the same name is its own.
    expect(directory.store(4, spec).size).toBe(0);
    reopened.wipe();
    expect(reopened.size).toBe(0);
    expect(reopened.keysBefore(Infinity)).toEqual([]);
  });

  it('a checkpoint is read once: taking it removes it, so a crash afterwards finds none', async () => {
    expect(directory.takeCheckpoint(1)).toEqual(new Map());
    await directory.writeCheckpoint(1, new Map([['parcels', '42']]));
    expect(directory.takeCheckpoint(1)).toEqual(new Map([['parcels', '42']]));
    expect(directory.takeCheckpoint(1)).toEqual(new Map());
  });

  it('one holder at a time; the lock goes with close', async () => {
    expect(() => StateDirectory.open(stateDir, 'app', log)).toThrow(StateDirectoryLockedError);
    // Other applications have directories of their own.
    const other = StateDirectory.open(stateDir, 'other-app', log);
    await other.close();
    await directory.close();
    directory = StateDirectory.open(stateDir, 'app', log);
  });
});
