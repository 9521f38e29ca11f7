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

export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  private readonly committed = new Map<string, [K, V]>();
  private pending = new Map<string, [K, V | typeof DELETED]>();
  private readonly keyId: (key: K) => string;
  private readonly timeOf: TimeOf<V> | undefined;
  /** Index of committed and pending values; pending keys are re-indexed from committed on abort. */
  private readonly index: TimeIndex | undefined;

  constructor(
    name: string,
    keyId: (key: K) => string = (key) => (typeof key === 'string' ? key : JSON.stringify(key)),
    options: { timeIndex?: TimeOf<V>; timeIndexGranularityMs?: number } = {},
  ) {
    this.name = name;
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
    const merged = new Map(this.committed);
    for (const [id, [key, value]] of this.pending) {
      if (value === DELETED) merged.delete(id);
      else merged.set(id, [key, value]);
    }
    return [...merged.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => entry);
  }

  /** Counted from the committed size and the pending writes only. */
  get size(): number {
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
    for (const [id, [key, value]] of this.pending) {
      if (value === DELETED) this.committed.delete(id);
      else this.committed.set(id, [key, value]);
    }
    this.pending = new Map();
    return entries;
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

  private reindex(id: string, value: V): void {
    if (!this.index || !this.timeOf) return;
    const time = this.timeOf(value);
    if (time === undefined || !Number.isFinite(time)) this.index.remove(id);
    else this.index.set(id, time);
  }
}

export function deepFreeze<T>(value: T): T {
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
