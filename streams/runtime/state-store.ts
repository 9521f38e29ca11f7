// Key-value state stores local to a task. Writes go to a pending layer until the task commits:
// commit() folds them into the store and returns the changelog entries to write in the same
// Kafka transaction; abort() drops them, so the store never runs ahead of what Kafka committed.

/** What a processor may do with a global store: read. */
export interface ReadOnlyKeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | undefined;
  /** Every entry, committed and pending, in key order of their string form. */
  all(): [K, V][];
  readonly size: number;
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  put(key: K, value: V): void;
  delete(key: K): void;
}

/** One changelog entry: a value, or a tombstone (null) for a deleted key. */
export interface ChangelogEntry<K, V> {
  key: K;
  value: V | null;
}

const DELETED = Symbol('deleted');

export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  private readonly committed = new Map<string, [K, V]>();
  private pending = new Map<string, [K, V | typeof DELETED]>();
  private readonly keyId: (key: K) => string;

  constructor(
    name: string,
    keyId: (key: K) => string = (key) => (typeof key === 'string' ? key : JSON.stringify(key)),
  ) {
    this.name = name;
    this.keyId = keyId;
  }

  get(key: K): V | undefined {
    const id = this.keyId(key);
    const pending = this.pending.get(id);
    if (pending) return pending[1] === DELETED ? undefined : pending[1];
    return this.committed.get(id)?.[1];
  }

  /**
   * Stores `value` frozen (deeply): a stored object changed in place would escape the pending
   * layer, so an aborted transaction could not roll it back. Processors put copies.
   */
  put(key: K, value: V): void {
    this.pending.set(this.keyId(key), [key, deepFreeze(value)]);
  }

  delete(key: K): void {
    this.pending.set(this.keyId(key), [key, DELETED]);
  }

  all(): [K, V][] {
    const merged = new Map(this.committed);
    for (const [id, [key, value]] of this.pending) {
      if (value === DELETED) merged.delete(id);
      else merged.set(id, [key, value]);
    }
    return [...merged.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => entry);
  }

  get size(): number {
    return this.all().length;
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
    for (const [id, [key, value]] of this.pending) {
      if (value === DELETED) this.committed.delete(id);
      else this.committed.set(id, [key, value]);
    }
    this.pending = new Map();
    return entries;
  }

  abort(): void {
    this.pending = new Map();
  }

  /** Applies a changelog entry while restoring, bypassing the pending layer. */
  restore(entry: ChangelogEntry<K, V>): void {
    const id = this.keyId(entry.key);
    if (entry.value === null) this.committed.delete(id);
    else this.committed.set(id, [entry.key, deepFreeze(entry.value)]);
  }
}

function deepFreeze<T>(value: T): T {
  // Typed arrays (Buffers) cannot be frozen; their bytes stay the processor's responsibility.
  if (
    value !== null &&
    typeof value === 'object' &&
    !ArrayBuffer.isView(value) &&
    !Object.isFrozen(value)
  ) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
