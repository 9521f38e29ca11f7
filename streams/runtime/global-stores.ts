// The global stores of one application instance: each filled from every partition of its topic
// and shared, read-only, by all the instance's tasks (Kafka Streams' global state). The
// application feeds records in as it follows the topics; a record that does not decode is
// counted and skipped, since reference data must not stop the stream it serves.
import { errorMessage } from '../../core/errors.ts';
import type { RawRecord } from './record.ts';
import { InMemoryKeyValueStore, type ReadOnlyKeyValueStore } from './state-store.ts';
import { TopologyError, type GlobalStoreSpec, type Topology } from './topology.ts';

export interface GlobalStoreSkip {
  store: string;
  topic: string;
  error: string;
}

export class GlobalStores {
  private readonly specs: ReadonlyMap<string, GlobalStoreSpec>;
  private readonly stores = new Map<string, InMemoryKeyValueStore<unknown, unknown>>();
  private readonly onSkip: (skip: GlobalStoreSkip) => void;
  /** Records applied and skipped, per store. */
  readonly applied = new Map<string, number>();
  readonly skipped = new Map<string, number>();

  constructor(topology: Topology, options: { onSkip?: (skip: GlobalStoreSkip) => void } = {}) {
    this.specs = topology.globalStores;
    this.onSkip = options.onSkip ?? (() => undefined);
    for (const spec of this.specs.values())
      this.stores.set(spec.name, new InMemoryKeyValueStore(spec.name, spec.keyId));
  }

  /** Topics to follow, one per global store. */
  topics(): string[] {
    return [...this.specs.values()].map((s) => s.topic);
  }

  has(name: string): boolean {
    return this.stores.has(name);
  }

  store<K, V>(name: string): ReadOnlyKeyValueStore<K, V> {
    const store = this.stores.get(name);
    if (!store) throw new TopologyError(`no global store named "${name}"`);
    return store as unknown as ReadOnlyKeyValueStore<K, V>;
  }

  /** Applies one record of `topic`: a value replaces the key's entry, a tombstone removes it. */
  async apply(topic: string, raw: RawRecord): Promise<void> {
    const spec = [...this.specs.values()].find((s) => s.topic === topic);
    if (!spec) throw new TopologyError(`no global store is filled from topic "${topic}"`);
    const store = this.stores.get(spec.name);
    if (!store || raw.key === null) return;
    try {
      const key = await spec.serdes.key.deserialize(raw.key);
      const value = raw.value === null ? null : await spec.serdes.value.deserialize(raw.value);
      store.restore({ key, value });
      this.applied.set(spec.name, (this.applied.get(spec.name) ?? 0) + 1);
    } catch (err) {
      this.skipped.set(spec.name, (this.skipped.get(spec.name) ?? 0) + 1);
      this.onSkip({ store: spec.name, topic, error: errorMessage(err) });
    }
  }
}
