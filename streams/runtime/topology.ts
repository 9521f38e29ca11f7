// A topology declared as data: sources, processors, state stores, sinks and repartitions, built
// once and validated. Internal topics are named as Kafka Streams names them:
// `<app-id>-<store>-changelog` and `<app-id>-<name>-repartition`.
import { ContinuumError } from '../../core/errors.ts';
import {
  defaultProcessingErrorHandler,
  type Processor,
  type ProcessingErrorHandler,
} from './processor.ts';
import type { Serde } from './serde.ts';
import type { TimeOf } from './state-store.ts';

export interface Serdes<K, V> {
  key: Serde<K>;
  value: Serde<V>;
}

/**
 * Event time of a consumed record, after Kafka Streams' TimestampExtractor: by default the
 * record's timestamp; a source may read it from the value instead, so processors do not depend
 * on how producers stamped their records. A result that is not a finite number ≥ 0
 * dead-letters the record.
 */
export type TimestampExtractor<K = unknown, V = unknown> = (record: {
  key: K;
  value: V;
  timestamp: number;
}) => number;

export interface SourceNode {
  kind: 'source';
  name: string;
  topic: string;
  serdes: Serdes<unknown, unknown>;
  children: string[];
  timestampExtractor?: TimestampExtractor;
}

export interface ProcessorNode {
  kind: 'processor';
  name: string;
  parents: string[];
  children: string[];
  supplier: () => Processor<unknown, unknown, unknown, unknown>;
  stores: string[];
  onError: ProcessingErrorHandler;
}

export interface SinkNode {
  kind: 'sink';
  name: string;
  parents: string[];
  topic: string;
  serdes: Serdes<unknown, unknown>;
  /** Internal repartition topic (created and owned by the application). */
  internal: boolean;
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

export interface StoreSpec<K = unknown, V = unknown> {
  name: string;
  serdes: Serdes<K, V>;
  /** Backed by a compacted changelog topic and restored from it (default true). */
  changelog?: boolean;
  /** How keys are told apart in memory (default: the string, or its JSON). */
  keyId?: (key: K) => string;
  /**
   * A time per value (when an entry is due or expires), indexed so that a processor finds the
   * due keys with `keysBefore(t)` without reading the whole store. Key-value stores only.
   */
  timeIndex?: TimeOf<V>;
  /**
   * A versioned store (Kafka Streams' KIP-889): every put keeps a version at its timestamp,
   * readable as of a time, for `historyRetentionMs` of the store's stream time. Its changelog
   * keeps that much history from compaction (`min.compaction.lag.ms`, counted from write time).
   */
  versioned?: { historyRetentionMs: number };
  /**
   * Committed entries on disk (LMDB, under the application's state directory) instead of in
   * memory: state larger than the heap, and a clean restart restores only the changelog's tail.
   * Unset: the application's default (`persistentStores`). Changelogged key-value stores only.
   */
  persistent?: boolean;
}

/** An internal topic the application creates: a repartition or a store's changelog. */
export interface InternalTopic {
  topic: string;
  compacted: boolean;
  /** Configs beyond the kind's own (e.g. a versioned changelog's compaction lag). */
  configs?: Record<string, string>;
}

/**
 * A store every task reads in full, filled from a whole topic (all partitions) and kept up to
 * date by the application, like Kafka Streams' global stores: reference data such as the
 * published ETA models. Processors read it; only the topic writes it (no changelog).
 */
export interface GlobalStoreSpec<K = unknown, V = unknown> {
  name: string;
  topic: string;
  serdes: Serdes<K, V>;
  keyId?: (key: K) => string;
}

export class TopologyError extends ContinuumError {
  override readonly code = 'TOPOLOGY_INVALID';
}

export function changelogTopic(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

export function repartitionTopic(applicationId: string, name: string): string {
  return `${applicationId}-${name}-repartition`;
}

export class Topology {
  readonly applicationId: string;
  readonly nodes: ReadonlyMap<string, TopologyNode>;
  readonly stores: ReadonlyMap<string, StoreSpec>;
  readonly globalStores: ReadonlyMap<string, GlobalStoreSpec>;

  constructor(
    applicationId: string,
    nodes: Map<string, TopologyNode>,
    stores: Map<string, StoreSpec>,
    globalStores: Map<string, GlobalStoreSpec> = new Map(),
  ) {
    this.applicationId = applicationId;
    this.nodes = nodes;
    this.stores = stores;
    this.globalStores = globalStores;
  }

  /** The global store filled from `topic`, if any. */
  globalStoreFor(topic: string): GlobalStoreSpec | undefined {
    return [...this.globalStores.values()].find((g) => g.topic === topic);
  }

  sources(): SourceNode[] {
    return [...this.nodes.values()].filter((n): n is SourceNode => n.kind === 'source');
  }

  sinks(): SinkNode[] {
    return [...this.nodes.values()].filter((n): n is SinkNode => n.kind === 'sink');
  }

  sourceFor(topic: string): SourceNode | undefined {
    return this.sources().find((s) => s.topic === topic);
  }

  /** Topics the application reads: external inputs and its own repartition topics. */
  inputTopics(): string[] {
    return [...new Set(this.sources().map((s) => s.topic))];
  }

  /** Topics the application creates and owns: repartitions and changelogs. */
  internalTopics(): InternalTopic[] {
    return [
      ...this.sinks()
        .filter((s) => s.internal)
        .map((s) => ({ topic: s.topic, compacted: false })),
      ...[...this.stores.values()]
        .filter((s) => s.changelog !== false)
        .map((s) => ({
          topic: changelogTopic(this.applicationId, s.name),
          compacted: true,
          ...(s.versioned
            ? { configs: { 'min.compaction.lag.ms': String(s.versioned.historyRetentionMs) } }
            : {}),
        })),
    ];
  }

  /** A human-readable outline, like Kafka Streams' TopologyDescription. */
  describe(): string {
    return [...this.nodes.values()]
      .map((n) => {
        const edges =
          n.kind === 'sink' ? `→ topic ${n.topic}` : `→ ${n.children.join(', ') || '(none)'}`;
        const from = n.kind === 'source' ? `topic ${n.topic} ` : '';
        const stores =
          n.kind === 'processor' && n.stores.length > 0 ? ` stores: ${n.stores.join(', ')}` : '';
        return `${n.kind} ${n.name}: ${from}${edges}${stores}`;
      })
      .concat(
        [...this.globalStores.values()].map((g) => `global store ${g.name}: topic ${g.topic}`),
      )
      .join('\n');
  }
}

export class TopologyBuilder {
  private readonly applicationId: string;
  private readonly nodes = new Map<string, TopologyNode>();
  private readonly stores = new Map<string, StoreSpec>();
  private readonly globalStores = new Map<string, GlobalStoreSpec>();

  constructor(applicationId: string) {
    if (!/^[a-zA-Z0-9._-]+$/.test(applicationId))
      throw new TopologyError(`application id "${applicationId}" must be usable in topic names`);
    this.applicationId = applicationId;
  }

  private claim(name: string): void {
    if (this.nodes.has(name)) throw new TopologyError(`a node named "${name}" already exists`);
  }

  private link(child: string, parents: readonly string[]): void {
    if (parents.length === 0) throw new TopologyError(`"${child}" needs at least one parent`);
    for (const parent of parents) {
      const node = this.nodes.get(parent);
      if (!node)
        throw new TopologyError(
          `"${child}" names parent "${parent}", which does not exist (add parents first)`,
        );
      if (node.kind === 'sink')
        throw new TopologyError(`"${child}" cannot follow sink "${parent}"`);
      node.children.push(child);
    }
  }

  addSource<K, V>(
    name: string,
    topic: string,
    serdes: Serdes<K, V>,
    options: { timestampExtractor?: TimestampExtractor<K, V> } = {},
  ): this {
    this.claim(name);
    if (
      this.nodes.size > 0 &&
      [...this.nodes.values()].some((n) => n.kind === 'source' && n.topic === topic)
    ) {
      throw new TopologyError(`topic "${topic}" already has a source`);
    }
    if ([...this.globalStores.values()].some((g) => g.topic === topic))
      throw new TopologyError(`topic "${topic}" fills a global store; it cannot also be a source`);
    this.nodes.set(name, {
      kind: 'source',
      name,
      topic,
      serdes: serdes,
      children: [],
      timestampExtractor: options.timestampExtractor as TimestampExtractor | undefined,
    });
    return this;
  }

  addProcessor<KIn, VIn, KOut, VOut>(
    name: string,
    supplier: () => Processor<KIn, VIn, KOut, VOut>,
    parents: readonly string[],
    options: { onError?: ProcessingErrorHandler } = {},
  ): this {
    this.claim(name);
    this.link(name, parents);
    this.nodes.set(name, {
      kind: 'processor',
      name,
      parents: [...parents],
      children: [],
      supplier: supplier,
      stores: [],
      onError: options.onError ?? defaultProcessingErrorHandler,
    });
    return this;
  }

  addStateStore<K, V>(spec: StoreSpec<K, V>, processors: readonly string[]): this {
    if (this.stores.has(spec.name))
      throw new TopologyError(`a store named "${spec.name}" already exists`);
    if (spec.versioned && spec.timeIndex)
      throw new TopologyError(`store "${spec.name}": a versioned store has no time index`);
    if (spec.versioned && !(spec.versioned.historyRetentionMs >= 0))
      throw new TopologyError(`store "${spec.name}": history retention must be ≥ 0 ms`);
    for (const p of processors) {
      const node = this.nodes.get(p);
      if (node?.kind !== 'processor')
        throw new TopologyError(
          `store "${spec.name}" is connected to "${p}", which is not a processor`,
        );
      node.stores.push(spec.name);
    }
    this.stores.set(spec.name, spec as StoreSpec);
    return this;
  }

  /** A read-only store of the whole `topic`, readable by `processors` through getStateStore. */
  addGlobalStore<K, V>(spec: GlobalStoreSpec<K, V>, processors: readonly string[]): this {
    if (this.stores.has(spec.name) || this.globalStores.has(spec.name))
      throw new TopologyError(`a store named "${spec.name}" already exists`);
    if ([...this.nodes.values()].some((n) => n.kind === 'source' && n.topic === spec.topic))
      throw new TopologyError(`topic "${spec.topic}" is a source; a global store needs its own`);
    if (processors.length === 0)
      throw new TopologyError(`global store "${spec.name}" is connected to no processor`);
    for (const p of processors) {
      const node = this.nodes.get(p);
      if (node?.kind !== 'processor')
        throw new TopologyError(
          `global store "${spec.name}" is connected to "${p}", which is not a processor`,
        );
      node.stores.push(spec.name);
    }
    this.globalStores.set(spec.name, spec as GlobalStoreSpec);
    return this;
  }

  addSink<K, V>(
    name: string,
    topic: string,
    serdes: Serdes<K, V>,
    parents: readonly string[],
  ): this {
    this.claim(name);
    this.link(name, parents);
    this.nodes.set(name, {
      kind: 'sink',
      name,
      parents: [...parents],
      topic,
      serdes: serdes,
      internal: false,
    });
    return this;
  }

  /**
   * Re-keys through `<app-id>-<name>-repartition`: records from `parents` are written there
   * (partitioned by their new key) and read back by a source node called `name`, so what
   * follows sees every record of a key in one task.
   */
  addRepartition<K, V>(name: string, serdes: Serdes<K, V>, parents: readonly string[]): this {
    return this.addRepartitionSink(name, serdes, parents).addRepartitionSource(name, serdes);
  }

  /**
   * The writing half of a repartition, for when its writers include nodes that read it (a
   * processor that hands records on to another key's task): add the source first, then this.
   */
  addRepartitionSink<K, V>(name: string, serdes: Serdes<K, V>, parents: readonly string[]): this {
    const topic = repartitionTopic(this.applicationId, name);
    this.claim(`${name}-sink`);
    this.link(`${name}-sink`, parents);
    this.nodes.set(`${name}-sink`, {
      kind: 'sink',
      name: `${name}-sink`,
      parents: [...parents],
      topic,
      serdes: serdes,
      internal: true,
    });
    return this;
  }

  /** The reading half of a repartition: a source node called `name`. */
  addRepartitionSource<K, V>(name: string, serdes: Serdes<K, V>): this {
    return this.addSource(name, repartitionTopic(this.applicationId, name), serdes);
  }

  build(): Topology {
    if (![...this.nodes.values()].some((n) => n.kind === 'source'))
      throw new TopologyError('a topology needs at least one source');
    const internalSinks = new Set(
      [...this.nodes.values()]
        .filter((n) => n.kind === 'sink' && n.internal)
        .map((n) => (n as SinkNode).topic),
    );
    for (const node of this.nodes.values()) {
      if (node.kind !== 'source' || !node.topic.startsWith(`${this.applicationId}-`)) continue;
      if (node.topic.endsWith('-repartition') && !internalSinks.has(node.topic))
        throw new TopologyError(`repartition "${node.name}" is read but nothing writes it`);
    }
    for (const topic of internalSinks)
      if (![...this.nodes.values()].some((n) => n.kind === 'source' && n.topic === topic))
        throw new TopologyError(`repartition topic "${topic}" is written but nothing reads it`);
    for (const node of this.nodes.values()) {
      if (node.kind === 'source' && node.children.length === 0)
        throw new TopologyError(`source "${node.name}" has no children`);
    }
    for (const store of this.stores.values()) {
      if (
        ![...this.nodes.values()].some(
          (n) => n.kind === 'processor' && n.stores.includes(store.name),
        )
      ) {
        throw new TopologyError(`store "${store.name}" is connected to no processor`);
      }
    }
    return new Topology(
      this.applicationId,
      new Map(this.nodes),
      new Map(this.stores),
      new Map(this.globalStores),
    );
  }
}
