// A versioned key-value store, after Kafka Streams' (KIP-889): every put is a version of its key
// at a timestamp, reads ask for the newest version or the one valid at a time ("as of t"), and
// versions older than the history retention go (the newest of a key always stays). Writes wait
// in a pending layer until the task commits, as in the plain store. Its changelog carries, per
// key and commit, the versions appended in that commit; restore replays them in order.
import { deepFreeze } from './state-store.ts';

export interface VersionedRecord<V> {
  value: V;
  /** Event time of the version: valid from here until the next version's timestamp. */
  timestamp: number;
}

export interface ReadOnlyVersionedKeyValueStore<K, V> {
  readonly name: string;
  readonly historyRetentionMs: number;
  /** The newest version of the key. */
  get(key: K): VersionedRecord<V> | undefined;
  /** The newest version with a timestamp at or before `asOf` (what the key was at that time). */
  getAsOf(key: K, asOf: number): VersionedRecord<V> | undefined;
  /** Versions with `from ≤ timestamp ≤ to`, oldest first. */
  range(key: K, from: number, to: number): VersionedRecord<V>[];
  /** The highest timestamp put so far (the store's observed stream time). */
  readonly observedStreamTime: number;
}

export interface VersionedKeyValueStore<K, V> extends ReadOnlyVersionedKeyValueStore<K, V> {
  /** Adds a version; a put at a timestamp the key already has replaces that version. */
  put(key: K, value: V, timestamp: number): void;
}

/** One changelog entry: the versions of one key a commit appended, oldest first. */
export interface VersionedChangelogEntry<K, V> {
  key: K;
  versions: VersionedRecord<V>[];
}

interface Versions<K, V> {
  key: K;
  /** Ascending by timestamp. */
  versions: VersionedRecord<V>[];
}

/** Expired versions are cut off in one go once this many have piled up (amortized pruning). */
const PRUNE_BATCH = 64;

export class InMemoryVersionedKeyValueStore<K, V> implements VersionedKeyValueStore<K, V> {
  readonly name: string;
  readonly historyRetentionMs: number;
  private readonly keyId: (key: K) => string;
  private readonly committed = new Map<string, Versions<K, V>>();
  private pending = new Map<string, Versions<K, V>>();
  private committedObserved = Number.NEGATIVE_INFINITY;
  private pendingObserved = Number.NEGATIVE_INFINITY;

  constructor(
    name: string,
    historyRetentionMs: number,
    keyId: (key: K) => string = (key) => (typeof key === 'string' ? key : JSON.stringify(key)),
  ) {
    if (!(historyRetentionMs >= 0))
      throw new RangeError(`history retention must be ≥ 0, got ${historyRetentionMs}`);
    this.name = name;
    this.historyRetentionMs = historyRetentionMs;
    this.keyId = keyId;
  }

  get observedStreamTime(): number {
    return Math.max(this.committedObserved, this.pendingObserved);
  }

  get(key: K): VersionedRecord<V> | undefined {
    const id = this.keyId(key);
    return newer(this.committed.get(id)?.versions.at(-1), this.pending.get(id)?.versions.at(-1));
  }

  getAsOf(key: K, asOf: number): VersionedRecord<V> | undefined {
    const id = this.keyId(key);
    // Each layer is sorted: the answer is the newer of each layer's own (no merged copy).
    return newer(
      versionAsOf(this.committed.get(id)?.versions, asOf),
      versionAsOf(this.pending.get(id)?.versions, asOf),
    );
  }

  range(key: K, from: number, to: number): VersionedRecord<V>[] {
    const id = this.keyId(key);
    const slice = (versions: readonly VersionedRecord<V>[] | undefined) =>
      versions ? versions.slice(lowerBound(versions, from), upperBound(versions, to)) : [];
    const committed = slice(this.committed.get(id)?.versions);
    const pending = this.pending.get(id)?.versions;
    if (!pending) return committed;
    for (const version of slice(pending)) insertVersion(committed, version);
    return committed;
  }

  put(key: K, value: V, timestamp: number): void {
    if (!Number.isFinite(timestamp))
      throw new RangeError(`version timestamp must be finite, got ${timestamp}`);
    const id = this.keyId(key);
    let entry = this.pending.get(id);
    if (!entry) {
      entry = { key, versions: [] };
      this.pending.set(id, entry);
    }
    insertVersion(entry.versions, { value: deepFreeze(value), timestamp });
    this.pendingObserved = Math.max(this.pendingObserved, timestamp);
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Versions appended since the last commit, per key: what the changelog must carry. */
  uncommitted(): VersionedChangelogEntry<K, V>[] {
    return [...this.pending.values()].map(({ key, versions }) => ({ key, versions }));
  }

  commit(): VersionedChangelogEntry<K, V>[] {
    const entries = this.uncommitted();
    this.committedObserved = this.observedStreamTime;
    for (const entry of entries) this.fold(entry);
    this.pending = new Map();
    this.pendingObserved = Number.NEGATIVE_INFINITY;
    return entries;
  }

  abort(): void {
    this.pending = new Map();
    this.pendingObserved = Number.NEGATIVE_INFINITY;
  }

  /** Applies a changelog entry while restoring, bypassing the pending layer. */
  restore(entry: VersionedChangelogEntry<K, V>): void {
    for (const v of entry.versions)
      this.committedObserved = Math.max(this.committedObserved, v.timestamp);
    this.fold({ key: entry.key, versions: entry.versions.map((v) => deepFreeze({ ...v })) });
  }

  /** Number of keys (committed and pending). */
  get size(): number {
    let size = this.committed.size;
    for (const id of this.pending.keys()) if (!this.committed.has(id)) size += 1;
    return size;
  }

  private fold(entry: VersionedChangelogEntry<K, V>): void {
    const id = this.keyId(entry.key);
    const held = this.committed.get(id);
    if (!held) {
      this.committed.set(id, { key: entry.key, versions: [...entry.versions] });
    } else {
      for (const version of entry.versions) insertVersion(held.versions, version);
    }
    this.prune(id);
  }

  /** Drops versions past the history retention, keeping the key's newest one. */
  private prune(id: string): void {
    const held = this.committed.get(id);
    if (!held) return;
    const horizon = this.committedObserved - this.historyRetentionMs;
    const expired = Math.min(lowerBound(held.versions, horizon), held.versions.length - 1);
    if (expired >= PRUNE_BATCH || (expired > 0 && expired * 2 >= held.versions.length))
      held.versions.splice(0, expired);
  }
}

/** Inserts in timestamp order; the same timestamp replaces. Appending is the common case. */
function insertVersion<V>(versions: VersionedRecord<V>[], version: VersionedRecord<V>): void {
  const last = versions.at(-1);
  if (!last || last.timestamp < version.timestamp) {
    versions.push(version);
    return;
  }
  const at = lowerBound(versions, version.timestamp);
  if (versions[at]?.timestamp === version.timestamp) versions[at] = version;
  else versions.splice(at, 0, version);
}

/** The later of two versions (the second, pending, wins a tie: it replaces). */
function newer<V>(
  a: VersionedRecord<V> | undefined,
  b: VersionedRecord<V> | undefined,
): VersionedRecord<V> | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.timestamp >= a.timestamp ? b : a;
}

function versionAsOf<V>(
  versions: readonly VersionedRecord<V>[] | undefined,
  asOf: number,
): VersionedRecord<V> | undefined {
  if (!versions) return undefined;
  const at = upperBound(versions, asOf);
  return at > 0 ? versions[at - 1] : undefined;
}

/** First index whose timestamp is ≥ t. */
function lowerBound<V>(versions: readonly VersionedRecord<V>[], t: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((versions[mid] as VersionedRecord<V>).timestamp < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose timestamp is > t. */
function upperBound<V>(versions: readonly VersionedRecord<V>[], t: number): number {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((versions[mid] as VersionedRecord<V>).timestamp <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
