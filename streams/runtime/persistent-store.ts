// Key-value stores on disk (Kafka Streams' RocksDB role), in LMDB: the committed entries live in
// a named database of the application's state directory, so state may be larger than the heap
// and a clean restart restores only the changelog's tail. Pending writes stay in memory until
// the task commits, as for in-memory stores; values are encoded by LMDB (msgpack).
import type { Database, RootDatabase } from 'lmdb';
import { TransactionFlags } from 'lmdb';
import {
  TransactionalKeyValueStore,
  type CommittedEntries,
  type KeyValueStoreOptions,
} from './state-store.ts';

/** Restore writes buffered before they go to LMDB in one transaction. */
const RESTORE_BATCH = 10_000;

/** Commits return once LMDB has committed; the flush to disk overlaps (awaited before a checkpoint). */
const COMMIT_FLAGS = TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH;

export class LmdbEntries<K, V> implements CommittedEntries<K, V> {
  private readonly env: RootDatabase;
  private readonly db: Database<[K, V], string>;
  /** Restore writes not yet in LMDB (undefined: delete). */
  private buffer = new Map<string, [K, V] | undefined>();

  constructor(env: RootDatabase, db: Database<[K, V], string>) {
    this.env = env;
    this.db = db;
  }

  get(id: string): [K, V] | undefined {
    if (this.buffer.has(id)) return this.buffer.get(id);
    return this.db.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  get size(): number {
    this.flush();
    return (this.db.getStats() as { entryCount: number }).entryCount;
  }

  *entries(): Iterable<[string, [K, V]]> {
    this.flush();
    for (const { key, value } of this.db.getRange()) yield [key, value];
  }

  apply(writes: ReadonlyMap<string, [K, V] | undefined>): void {
    if (writes.size === 0) return;
    this.env.transactionSync(() => {
      for (const [id, entry] of writes) {
        if (entry) this.db.putSync(id, entry);
        else this.db.removeSync(id);
      }
    }, COMMIT_FLAGS);
  }

  set(id: string, entry: [K, V]): void {
    this.buffer.set(id, entry);
    if (this.buffer.size >= RESTORE_BATCH) this.flush();
  }

  delete(id: string): void {
    this.buffer.set(id, undefined);
    if (this.buffer.size >= RESTORE_BATCH) this.flush();
  }

  flush(): void {
    if (this.buffer.size === 0) return;
    const writes = this.buffer;
    this.buffer = new Map();
    this.apply(writes);
  }

  clear(): void {
    this.buffer = new Map();
    this.db.clearSync();
  }
}

/** A key-value store whose committed entries are on disk. */
export class PersistentKeyValueStore<K, V> extends TransactionalKeyValueStore<K, V> {
  constructor(
    name: string,
    entries: LmdbEntries<K, V>,
    keyId?: (key: K) => string,
    options: KeyValueStoreOptions<V> = {},
  ) {
    super(name, entries, keyId, options);
    this.reindexCommitted();
  }
}
