// Key-value state stores local to a task. Writes go to a pending layer until the task commits:
// commit() folds them into the store and returns the changelog entries to write in the same
// Kafka transaction; abort() drops them, so the store never runs ahead of what Kafka committed.
import { TimeIndex } from './time-index.ts';

/** What a processor may do with a global store: read. */
export interface ReadOnlyKeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | undefined;
  /** Every entry, committed and pending, in key order of their string form (a copy: not for hot paths). */
  all(): [K, V][];
  readonly size: number;
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  put(key: K, value: V): void;
  delete(key: K): void;
  /**
   * Keys whose indexed time (the store's `timeIndex`) is below `before`, earliest first: what
   * is due or expired, found without reading the rest of the store. Throws without an index.
   */
  keysBefore(before: number): K[];
}

/** One changelog entry: a value, or a tombstone (null) for a deleted key. */
export interface ChangelogEntry<K, V> {
  key: K;
  value: V | null;
}

/** The time a stored value is indexed by (undefined or not finite: not indexed). */
export type TimeOf<V> = (value: V) => number | undefined;

const DELETED = Symbol('deleted');

/**
 * Where a key-value store keeps what Kafka has committed: a Map in memory, or LMDB on disk
 * (`persistent-store.ts`). Entries are `[key, value]` by key id.
 */
export interface CommittedEntries<K, V> {
  get(id: string): [K, V] | undefined;
  has(id: string): boolean;
  readonly size: number;
  /** Every entry in key-id order. */
  entries(): Iterable<[string, [K, V]]>;
  /** Applies one commit's writes (undefined: delete) at once. */
  apply(writes: ReadonlyMap<string, [K, V] | undefined>): void;
  /** A changelog entry while restoring (may be buffered until `flush`). */
  set(id: string, entry: [K, V]): void;
  delete(id: string): void;
  flush(): void;
  clear(): void;
}

export class InMemoryEntries<K, V> implements CommittedEntries<K, V> {
  private readonly map = new Map<string, [K, V]>();

  get(id: string): [K, V] | undefined {
    return this.map.get(id);
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  get size(): number {
    return this.map.size;
  }

  entries(): Iterable<[string, [K, V]]> {
    return [...this.map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  apply(writes: ReadonlyMap<string, [K, V] | undefined>): void {
    for (const [id, entry] of writes) {
      if (entry) this.map.set(id, entry);
      else this.map.delete(id);
    }
  }

  set(id: string, entry: [K, V]): void {
    this.map.set(id, entry);
  }

  delete(id: string): void {
    this.map.delete(id);
  }

  flush(): void {}

  clear(): void {
    this.map.clear();
  }
}

export interface KeyValueStoreOptions<V> {
  timeIndex?: TimeOf<V>;
  timeIndexGranularityMs?: number;
}

/**
 * A key-value store whose writes wait in memory until the task commits; the committed entries
 * live in memory or on disk.
 */
export class TransactionalKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  protected readonly committed: CommittedEntries<K, V>;
  private pending = new Map<string, [K, V | typeof DELETED]>();
  private readonly keyId: (key: K) => string;
  private readonly timeOf: TimeOf<V> | undefined;
  /** Index of committed and pending values; pending keys are re-indexed from committed on abort. */
  private readonly index: TimeIndex | undefined;

  constructor(
    name: string,
    committed: CommittedEntries<K, V>,
    keyId: (key: K) => string = (key) => (typeof key === 'string' ? key : JSON.stringify(key)),
    options: KeyValueStoreOptions<V> = {},
  ) {
    this.name = name;
    this.committed = committed;
    this.keyId = keyId;
    this.timeOf = options.timeIndex;
    this.index = options.timeIndex ? new TimeIndex(options.timeIndexGranularityMs) : undefined;
  }

  get(key: K): V | undefined {
    return this.getById(this.keyId(key));
  }

  private getById(id: string): V | undefined {
    const pending = this.pending.get(id);
    if (pending) return pending[1] === DELETED ? undefined : pending[1];
    return this.committed.get(id)?.[1];
  }

  private keyById(id: string): K | undefined {
    return (this.pending.get(id) ?? this.committed.get(id))?.[0];
  }

  /**
   * Stores `value` frozen (deeply): a stored object changed in place would escape the pending
   * layer, so an aborted transaction could not roll it back. Processors put copies.
   */
  put(key: K, value: V): void {
    const id = this.keyId(key);
    this.pending.set(id, [key, deepFreeze(value)]);
    this.reindex(id, value);
  }

  delete(key: K): void {
    const id = this.keyId(key);
    this.pending.set(id, [key, DELETED]);
    this.index?.remove(id);
  }

  keysBefore(before: number): K[] {
    if (!this.index) throw new Error(`store "${this.name}" has no time index`);
    const keys: K[] = [];
    for (const id of this.index.idsBefore(before)) {
      const key = this.keyById(id);
      if (key !== undefined) keys.push(key);
    }
    return keys;
  }

  all(): [K, V][] {
    this.committed.flush();
    const out: [K, V][] = [];
    const pending = [...this.pending.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let next = 0;
    const takePendingBefore = (id: string | undefined): void => {
      while (next < pending.length) {
        const [pid, [key, value]] = pending[next] as [string, [K, V | typeof DELETED]];
        if (id !== undefined && pid >= id) return;
        if (value !== DELETED) out.push([key, value]);
        next += 1;
      }
    };
    for (const [id, entry] of this.committed.entries()) {
      takePendingBefore(id);
      if (this.pending.has(id)) continue;
      out.push(entry);
    }
    takePendingBefore(undefined);
    return out;
  }

  /** Counted from the committed size and the pending writes only. */
  get size(): number {
    this.committed.flush();
    let size = this.committed.size;
    for (const [id, [, value]] of this.pending) {
      const known = this.committed.has(id);
      if (value === DELETED && known) size -= 1;
      else if (value !== DELETED && !known) size += 1;
    }
    return size;
  }

  /** Whether writes wait for a commit. */
  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Entries written since the last commit, as they must go to the changelog. */
  uncommitted(): ChangelogEntry<K, V>[] {
    return [...this.pending.values()].map(([key, value]) => ({
      key,
      value: value === DELETED ? null : value,
    }));
  }

  commit(): ChangelogEntry<K, V>[] {
    const entries = this.uncommitted();
    const writes = new Map<string, [K, V] | undefined>();
    for (const [id, [key, value]] of this.pending)
      writes.set(id, value === DELETED ? undefined : [key, value]);
    this.committed.apply(writes);
    this.pending = new Map();
    return entries;
  }

  /** Drops the pending writes and every committed entry (before a restore from the beginning). */
  wipe(): void {
    this.pending = new Map();
    this.committed.clear();
    this.index?.clear();
  }

  abort(): void {
    const touched = [...this.pending.keys()];
    this.pending = new Map();
    for (const id of touched) {
      const committed = this.committed.get(id);
      if (committed) this.reindex(id, committed[1]);
      else this.index?.remove(id);
    }
  }

  /** Applies a changelog entry while restoring, bypassing the pending layer. */
  restore(entry: ChangelogEntry<K, V>): void {
    const id = this.keyId(entry.key);
    if (entry.value === null) {
      this.committed.delete(id);
      this.index?.remove(id);
    } else {
      this.committed.set(id, [entry.key, deepFreeze(entry.value)]);
      this.reindex(id, entry.value);
    }
  }

  /** The restore is over: buffered restore writes reach the committed entries. */
  restored(): void {
    this.committed.flush();
  }

  /** Rebuilds the time index from the committed entries (a store opened with data on disk). */
  protected reindexCommitted(): void {
    if (!this.index) return;
    this.index.clear();
    for (const [id, [, value]] of this.committed.entries()) this.reindex(id, value);
  }

  private reindex(id: string, value: V): void {
    if (!this.index || !this.timeOf) return;
    const time = this.timeOf(value);
    if (time === undefined || !Number.isFinite(time)) this.index.remove(id);
    else this.index.set(id, time);
  }
}

/** A key-value store held in memory (restored from its changelog whenever its task opens). */
export class InMemoryKeyValueStore<K, V> extends TransactionalKeyValueStore<K, V> {
  constructor(name: string, keyId?: (key: K) => string, options: KeyValueStoreOptions<V> = {}) {
    super(name, new InMemoryEntries<K, V>(), keyId, options);
  }
}

export function deepFreeze<T>(value: T): T {
  // Typed arrays (Buffers) cannot be frozen; their bytes stay the processor's responsibility.
  if (
    value === null ||
    typeof value !== 'object' ||
    Object.isFrozen(value) ||
    ArrayBuffer.isView(value)
  )
    return value;
  Object.freeze(value);
  // for…in, not Object.values: no array per object, and V8's enum cache makes it ~4× faster on
  // a shipment state (deepFreeze was ~4 % of the pipeline benchmark's CPU). It also reaches
  // inherited enumerable properties, which a read of the value reaches too.
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object') deepFreeze(child);
  }
  return value;
}
