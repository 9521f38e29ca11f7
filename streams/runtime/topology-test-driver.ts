// Runs a topology with no broker, like Kafka Streams' TopologyTestDriver: pipe records into
// input topics, read what reached output topics, the DLQs and the state stores. Records go
// through the real serdes and the same StreamTask the Kafka runtime uses; every input is
// followed by a commit (commit interval 0), and repartition topics loop back in-process.
import type { RecordHeaders } from './kafka-port.ts';
import { DLQ_SUFFIX } from '../../core/topics.ts';
import type { RawRecord } from './record.ts';
import type { KeyValueStore } from './state-store.ts';
import { StreamTask, type TaskOutput } from './stream-task.ts';
import type { Topology } from './topology.ts';
import type { VersionedKeyValueStore } from './versioned-store.ts';

export interface DriverOutput<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers?: RecordHeaders;
}

export interface DriverOptions {
  /** Initial wall-clock time (ms). */
  wallClock?: number;
  /**
   * How far ahead of the wall clock an event time may be: the runtime's 5 min when a wall clock
   * is given, unlimited when none is.
   */
  maxFutureMs?: number;
}

export class TopologyTestDriver {
  private readonly topology: Topology;
  private readonly task: StreamTask;
  private readonly written = new Map<string, TaskOutput[]>();
  private readonly offsets = new Map<string, number>();
  private wallClock: number;

  constructor(topology: Topology, options: DriverOptions = {}) {
    this.topology = topology;
    this.wallClock = options.wallClock ?? 0;
    this.task = new StreamTask(topology, 0, {
      clock: () => this.wallClock,
      // A test that sets no wall clock writes event times of its choosing, none of them future.
      maxFutureMs:
        options.maxFutureMs ??
        (options.wallClock === undefined ? Number.POSITIVE_INFINITY : undefined),
    });
  }

  /** Serializes with the input topic's source serdes and processes the record. */
  async pipeInput<K, V>(
    topic: string,
    key: K,
    value: V,
    timestamp = this.wallClock,
    headers?: RecordHeaders,
  ): Promise<void> {
    const serdes = (this.topology.sourceFor(topic) ?? this.topology.globalStoreFor(topic))?.serdes;
    if (!serdes)
      throw new Error(
        `no source or global store reads topic "${topic}"; sources: ${this.topology.inputTopics().join(', ')}`,
      );
    await this.pipeRaw(topic, {
      key: key === null ? null : await serdes.key.serialize(key),
      value: value === null ? null : await serdes.value.serialize(value),
      timestamp,
      headers,
    });
  }

  /**
   * Processes bytes as they are: for poison pills and hand-made wire formats. A global store's
   * topic fills that store, as the runtime does when it follows the topic.
   */
  async pipeRaw(topic: string, record: RawRecord): Promise<void> {
    if (this.topology.globalStoreFor(topic)) {
      await this.task.globalStores.apply(topic, record);
      return;
    }
    const offset = this.offsets.get(topic) ?? 0;
    this.offsets.set(topic, offset + 1);
    await this.task.process({ topic, partition: 0, offset: String(offset) }, record);
    await this.commit();
  }

  /** The same steps as a runtime commit: outputs, then the changelog, then the fold-in. */
  private async commit(): Promise<void> {
    const outputs = [...(await this.task.drainOutputs()), ...(await this.task.prepareChangelog())];
    this.task.commitStores();
    for (const output of outputs) {
      this.written.set(output.topic, [...(this.written.get(output.topic) ?? []), output]);
      // Internal repartition topics are read back by the same topology.
      if (this.topology.sinks().some((s) => s.internal && s.topic === output.topic)) {
        await this.pipeRaw(output.topic, {
          key: output.key,
          value: output.value,
          timestamp: output.timestamp,
          headers: output.headers,
        });
      }
    }
  }

  /** Moves wall-clock time forward and fires due wall-clock punctuations. */
  async advanceWallClock(ms: number): Promise<void> {
    this.wallClock += ms;
    this.task.punctuateWallClock(this.wallClock);
    await this.commit();
  }

  /** Everything written to `topic`, deserialized with its sink serdes. */
  async readOutput<K, V>(topic: string): Promise<DriverOutput<K, V>[]> {
    const sink = this.topology.sinks().find((s) => s.topic === topic);
    if (!sink) throw new Error(`no sink writes topic "${topic}"`);
    return Promise.all(
      (this.written.get(topic) ?? []).map(async (o) => ({
        key: (o.key === null ? null : await sink.serdes.key.deserialize(o.key)) as K,
        value: (o.value === null ? null : await sink.serdes.value.deserialize(o.value)) as V,
        timestamp: o.timestamp,
        headers: o.headers,
      })),
    );
  }

  /** Raw records written to a topic (changelogs, DLQs, outputs). */
  rawOutput(topic: string): TaskOutput[] {
    return [...(this.written.get(topic) ?? [])];
  }

  /** Dead letters of an input topic (`<topic>.dlq`), or of every input when none is named. */
  deadLetters(topic?: string): TaskOutput[] {
    if (topic) return this.rawOutput(`${topic}${DLQ_SUFFIX}`);
    return [...this.written.entries()]
      .filter(([t]) => t.endsWith(DLQ_SUFFIX))
      .flatMap(([, records]) => records);
  }

  store<K, V>(name: string): KeyValueStore<K, V> {
    return this.task.store<K, V>(name);
  }

  versionedStore<K, V>(name: string): VersionedKeyValueStore<K, V> {
    return this.task.versionedStore<K, V>(name);
  }

  get streamTime(): number {
    return this.task.streamTime;
  }

  close(): void {
    this.task.close();
  }
}
