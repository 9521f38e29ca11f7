// A task's state stores and their changelog records: the one place where store writes become
// changelog bytes (for the runtime's transaction and the test driver alike) and where changelog
// bytes become store contents again on restore. A key-value store writes one record per key
// and commit (a tombstone for a delete); a versioned store writes, per key and commit, the
// versions it appended, framed as [int64 timestamp][int32 length][value bytes]….
import { DecodeError } from '../../core/errors.ts';
import { InMemoryKeyValueStore, type TransactionalKeyValueStore } from './state-store.ts';
import { isPromiseLike } from './serde.ts';
import { changelogTopic, type StoreSpec, type Topology } from './topology.ts';
import { InMemoryVersionedKeyValueStore, type VersionedRecord } from './versioned-store.ts';

export type TaskStateStore =
  TransactionalKeyValueStore<unknown, unknown> | InMemoryVersionedKeyValueStore<unknown, unknown>;

/** A changelog record as it goes to Kafka (the partition is the task's). */
export interface ChangelogRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** Makes a task's stores: in memory (`createStore`), or on disk for the specs that ask. */
export type StoreFactory = (spec: StoreSpec) => TaskStateStore;

/** The store a spec asks for, empty, in memory. */
export function createStore(spec: StoreSpec): TaskStateStore {
  return spec.versioned
    ? new InMemoryVersionedKeyValueStore(spec.name, spec.versioned.historyRetentionMs, spec.keyId)
    : new InMemoryKeyValueStore(spec.name, spec.keyId, { timeIndex: spec.timeIndex });
}

/** The changelog records of a store's pending writes (serialized once; folded in at commit). */
export async function pendingChangelog(
  topology: Topology,
  spec: StoreSpec,
  store: TaskStateStore,
): Promise<ChangelogRecord[]> {
  if (spec.changelog === false) return [];
  const topic = changelogTopic(topology.applicationId, spec.name);
  const records: ChangelogRecord[] = [];
  if (store instanceof InMemoryVersionedKeyValueStore) {
    for (const entry of store.uncommitted()) {
      const values: [number, Buffer][] = [];
      for (const v of entry.versions) {
        let bytes = spec.serdes.value.serialize(v.value);
        if (isPromiseLike(bytes)) bytes = await bytes;
        values.push([v.timestamp, bytes ?? EMPTY]);
      }
      let key = spec.serdes.key.serialize(entry.key);
      if (isPromiseLike(key)) key = await key;
      records.push({ topic, key, value: encodeVersions(values) });
    }
    return records;
  }
  for (const entry of store.uncommitted()) {
    let key = spec.serdes.key.serialize(entry.key);
    if (isPromiseLike(key)) key = await key;
    let value = entry.value === null ? null : spec.serdes.value.serialize(entry.value);
    if (isPromiseLike(value)) value = await value;
    records.push({ topic, key, value });
  }
  return records;
}

/** Applies one changelog record to its store while restoring (at once with synchronous serdes). */
export function restoreChangelogRecord(
  spec: StoreSpec,
  store: TaskStateStore,
  record: { key: Buffer | null; value: Buffer | null },
): void | Promise<void> {
  if (record.key === null) return;
  if (store instanceof InMemoryVersionedKeyValueStore)
    return restoreVersions(spec, store, record.key, record.value);
  const key = spec.serdes.key.deserialize(record.key);
  const value = record.value === null ? null : spec.serdes.value.deserialize(record.value);
  if (isPromiseLike(key) || isPromiseLike(value))
    return Promise.all([key, value]).then(([k, v]) => store.restore({ key: k, value: v }));
  store.restore({ key, value });
}

async function restoreVersions(
  spec: StoreSpec,
  store: InMemoryVersionedKeyValueStore<unknown, unknown>,
  keyBytes: Buffer,
  bytes: Buffer | null,
): Promise<void> {
  if (bytes === null) return;
  const key = await spec.serdes.key.deserialize(keyBytes);
  const versions: VersionedRecord<unknown>[] = [];
  for (const [timestamp, value] of decodeVersions(bytes, spec.name))
    versions.push({ timestamp, value: await spec.serdes.value.deserialize(value) });
  store.restore({ key, versions });
}

const EMPTY = Buffer.alloc(0);
const HEADER_BYTES = 12;

export function encodeVersions(versions: readonly [number, Buffer][]): Buffer {
  const size = versions.reduce((n, [, bytes]) => n + HEADER_BYTES + bytes.length, 0);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [timestamp, bytes] of versions) {
    out.writeBigInt64BE(BigInt(timestamp), at);
    out.writeInt32BE(bytes.length, at + 8);
    bytes.copy(out, at + HEADER_BYTES);
    at += HEADER_BYTES + bytes.length;
  }
  return out;
}

export function decodeVersions(bytes: Buffer, store: string): [number, Buffer][] {
  const versions: [number, Buffer][] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + HEADER_BYTES > bytes.length)
      throw new DecodeError(`versioned changelog record of "${store}" cut short at byte ${at}`);
    const timestamp = Number(bytes.readBigInt64BE(at));
    const length = bytes.readInt32BE(at + 8);
    const end = at + HEADER_BYTES + length;
    if (length < 0 || end > bytes.length)
      throw new DecodeError(`versioned changelog record of "${store}" has a bad length ${length}`);
    versions.push([timestamp, bytes.subarray(at + HEADER_BYTES, end)]);
    at = end;
  }
  return versions;
}
