// The whole stream pipeline on the real stack under test-only names: simulator → PostgreSQL →
// CDC → shipments.cdc, simulator → telemetry SDK → telemetry.raw, `continuum streams` as a child
// process, and the Redis and PostgreSQL state sinks in-process. Knows when everything has been
// consumed, reads every stage back, and removes everything it created.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import type { Config } from '../../../core/config.ts';
import type { Logger } from '../../../core/logger.ts';
import { repoRoot } from '../../../core/paths.ts';
import { dlqTopic } from '../../../core/topics.ts';
import { partitionDrained } from '../../../core/group-drained.ts';
import { createTopicsWithLeaders } from '../../../core/create-topics.ts';
import { waitFor } from '../../../core/wait-for.ts';
import { ShipmentStatePostgresSink } from '../../../connectors/sinks/postgres/shipment-state-postgres-sink.ts';
import { rowToShipmentState } from '../../../connectors/sinks/postgres/shipment-state-sql.ts';
import {
  shipmentStateKeys,
  type ShipmentStateKeys,
} from '../../../connectors/sinks/redis/shipment-state-hash.ts';
import { getShipmentState } from '../../../connectors/sinks/redis/shipment-state-reader.ts';
import { ShipmentStateRedisSink } from '../../../connectors/sinks/redis/shipment-state-redis-sink.ts';
import { SinkRunner } from '../../../connectors/sinks/sink-runner.ts';
import { TelemetryHistorySink } from '../../../connectors/sinks/mongodb/telemetry-history-sink.ts';
import { MongoClient } from 'mongodb';
import { cdcOptionsFromConfig } from '../../../connectors/sources/postgres-cdc/env.ts';
import { PostgresCdcSource } from '../../../connectors/sources/postgres-cdc/postgres-cdc-source.ts';
import { TelemetryProducer } from '../../../connectors/telemetry-sdk/telemetry-producer.ts';
import type { TelemetrySink } from '../../../connectors/telemetry-sdk/telemetry-sink.ts';
import { createSchemaRegistry, registerValueSchema } from '../../../schemas/event-schemas.ts';
import type { UnifiedShipmentState, VehicleTelemetry } from '../../../schemas/types.ts';
import { runSeed, type SeedRunReport } from '../../../seeder/run-seed.ts';
import { PostgresShipmentStore } from '../../../seeder/shipment-store.ts';
import type { SimulationOptions } from '../../../seeder/simulation.ts';
import type { ProcessingGuarantee } from '../../../streams/runtime/streams-application.ts';
import type { StreamsClientKind } from '../../../streams/runtime/kafka-port.ts';
import { jsonSerde } from '../../../streams/runtime/serde.ts';
import { internalTopicConfigs } from '../../../streams/runtime/internal-topics.ts';
import { platformTopologies } from '../../../streams/platform-streams.ts';
import { SHIPMENTS_BY_OWNER } from '../../../streams/topologies.ts';
import {
  changelogTopic,
  repartitionTopic,
  type InternalTopic,
} from '../../../streams/runtime/topology.ts';
import { SHIPMENT_STATE_STORES } from '../../../streams/join/shipment-state.ts';
import { createTestTopic, deleteTestTopics, readToEnd, type ConsumedMessage } from '../kafka.ts';
import { uniqueName } from '../names.ts';
import { deleteTestSubjects } from '../registry.ts';
import type { InputRecord } from './reference-fold.ts';
import { freePort } from '../free-port.ts';

export interface PipelineTopics {
  shipmentsCdc: string;
  telemetryRaw: string;
  telemetryClean: string;
  shipmentState: string;
  deliveriesCompleted: string;
  etaModels: string;
}

export interface PipelineHarnessOptions {
  /** Partitions of every co-partitioned topic. */
  partitions: number;
}

export const PIPELINE_HARNESS_DEFAULTS: PipelineHarnessOptions = { partitions: 3 };

/** Where `continuum streams` keeps its key-value stores (CONTINUUM_STREAMS_STORES). */
export type StreamsStores = 'memory' | 'disk';

/** The quiet times `continuum streams` runs with here (see startStreams). */
export const PIPELINE_QUIET_AFTER_MS = 4_000;
export const PIPELINE_FINISH_WHEN_QUIET_MS = 12_000;

/** What a finished run must have written (from the fold of its inputs). */
export interface SettledOutputs {
  /** Distinct readings on telemetry.clean. */
  cleanReadings: number;
  /** Distinct shipments on deliveries.completed. */
  examples: number;
  /** Their ids (a failed wait names the missing ones and what the join's stores hold of them). */
  exampleIds: ReadonlySet<string>;
}

/** A record read back, with its value decoded as the stream runtime would (undefined: undecodable). */
export interface DecodedRecord<T> extends InputRecord<T> {
  raw: ConsumedMessage;
}

// Test records carry simulated event times (2026-01), older than the broker's 7-day retention:
// without this the broker could delete them mid-test. Delete, not compact, so replays stay
// countable on shipment.state.
const KEEP_FOREVER = [{ name: 'retention.ms', value: '-1' }];

/** `continuum streams` as a child process: SIGKILL it, or stop it gracefully. */
export class StreamsProcess {
  readonly child: ChildProcess;
  /** Where it serves /metrics (a free port, so Prometheus can be pointed at it). */
  readonly metricsPort: number;
  private readonly lines: string[] = [];
  /** Every log message (pino's `msg`) the process wrote, however long ago. */
  private readonly messages = new Set<string>();
  /** Per message, the stream applications (`applicationId`) that wrote it. */
  private readonly messageApplications = new Map<string, Set<string>>();

  constructor(child: ChildProcess, metricsPort = 0) {
    this.child = child;
    this.metricsPort = metricsPort;
    // PIPELINE_DEBUG_LOG=<file> keeps the whole log of every streams process (for failures).
    const debug = process.env.PIPELINE_DEBUG_LOG;
    // Per stream: a chunk may end inside a line, whose rest comes with the next chunk.
    const reader = (): ((chunk: Buffer) => void) => {
      let partial = '';
      return (chunk) => {
        if (debug) appendFileSync(debug, chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.keep(line);
      };
    };
    child.stdout?.on('data', reader());
    child.stderr?.on('data', reader());
  }

  private keep(line: string): void {
    if (line.trim() === '') return;
    this.lines.push(line);
    if (this.lines.length > 300) this.lines.shift();
    const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
    if (msg === undefined) return;
    this.messages.add(msg);
    const application = /"applicationId":"([^"]*)"/.exec(line)?.[1];
    if (application === undefined) return;
    let applications = this.messageApplications.get(msg);
    if (!applications) this.messageApplications.set(msg, (applications = new Set()));
    applications.add(application);
  }

  /** How many stream applications logged the message `msg` (exactly), however long ago. */
  applicationsThatLogged(msg: string): number {
    return this.messageApplications.get(msg)?.size ?? 0;
  }

  /** Whether the process ever logged a message starting with `text` (not only in its tail). */
  hasLogged(text: string): boolean {
    for (const msg of this.messages) if (msg.startsWith(text)) return true;
    return false;
  }

  /** `continuum streams` logs this and keeps running the applications it did start. */
  get failed(): boolean {
    return this.hasLogged('streams failed');
  }

  /** Its last log lines, for failure messages. */
  tail(): string {
    return this.lines.join('\n');
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await gone;
  }
}

export class PipelineHarness {
  readonly config: Config;
  readonly kafka: Kafka;
  readonly log: Logger;
  readonly options: PipelineHarnessOptions;
  readonly topics: PipelineTopics;
  readonly applicationPrefix = uniqueName('test-pipe');
  readonly pgSchema = uniqueName('test_pipe', '_');
  readonly slot = uniqueName('test_pipe_slot', '_');
  readonly publication = uniqueName('test_pipe_pub', '_');
  readonly redisKeys: ShipmentStateKeys;
  readonly registry: SchemaRegistry;
  readonly pool: pg.Pool;
  readonly redis: Redis;
  private readonly redisNamespace = `${uniqueName('test', ':')}:`;
  private readonly sinkGroups = {
    redis: uniqueName('test-pipe-sink-redis'),
    postgres: uniqueName('test-pipe-sink-postgres'),
    mongodb: uniqueName('test-pipe-sink-mongodb'),
  };
  /** The MongoDB collection the telemetry history sink writes (startTelemetryHistorySink). */
  readonly telemetryCollection = uniqueName('test_pipe_telemetry', '_');
  private mongo: MongoClient | undefined;
  private readonly historyRunners: SinkRunner<VehicleTelemetry>[] = [];
  private readonly created: string[] = [];
  private readonly runners: SinkRunner<UnifiedShipmentState>[] = [];
  private readonly streams: StreamsProcess[] = [];
  private cdc: PostgresCdcSource | undefined;
  /** Partitions whose group offset stayed short of the end, past the last record (last check). */
  stuckBehindMarkers: string[] = [];
  /** The Kafka client `continuum streams` runs on (CONTINUUM_STREAMS_CLIENT; unset: the config's). */
  streamsClient: StreamsClientKind | undefined;
  /** How `continuum streams` threads its applications (CONTINUUM_STREAMS_THREADS; unset: the config's). */
  streamsThreads: Config['streams']['threads'] | undefined;
  /** The last committed record of each partition, as the last check found them (for errors). */
  private lastRecordDetail = '';
  /** Last committed record offset per partition of a topic, as of its end offsets (`signature`). */
  private readonly lastRecordCache = new Map<
    string,
    { signature: string; offsets: Map<number, number> }
  >();

  private constructor(
    config: Config,
    kafka: Kafka,
    log: Logger,
    options: PipelineHarnessOptions,
    topics: PipelineTopics,
  ) {
    this.config = config;
    this.kafka = kafka;
    this.log = log;
    this.options = options;
    this.topics = topics;
    this.redisKeys = shipmentStateKeys(this.redisNamespace);
    this.registry = createSchemaRegistry(config);
    this.pool = new pg.Pool({ connectionString: config.postgres.url, max: 4 });
    // A restarted server (a chaos scenario) drops idle connections: the next query reconnects.
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'idle PostgreSQL client failed'));
    this.redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  }

  /** Creates every topic the pipeline reads or writes (and their DLQs) under random names. */
  static async create(
    config: Config,
    kafka: Kafka,
    log: Logger,
    options: Partial<PipelineHarnessOptions> = {},
  ): Promise<PipelineHarness> {
    const o = { ...PIPELINE_HARNESS_DEFAULTS, ...options };
    const topic = (): Promise<string> =>
      createTestTopic(kafka, { partitions: o.partitions, configEntries: KEEP_FOREVER });
    const topics: PipelineTopics = {
      shipmentsCdc: await topic(),
      telemetryRaw: await topic(),
      telemetryClean: await topic(),
      shipmentState: await topic(),
      deliveriesCompleted: await topic(),
      // The join's global input; left empty, so the baseline predictor serves.
      etaModels: await createTestTopic(kafka, {
        partitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      }),
    };
    const harness = new PipelineHarness(config, kafka, log, o, topics);
    harness.created.push(
      topics.shipmentsCdc,
      topics.telemetryRaw,
      topics.telemetryClean,
      topics.shipmentState,
      topics.deliveriesCompleted,
      topics.etaModels,
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Every DLQ platformTopics() names: `continuum streams` creates the platform topics it
      // finds missing at start, and what it created here would outlive the harness.
      const dlqs = [
        topics.shipmentsCdc,
        topics.telemetryRaw,
        topics.telemetryClean,
        topics.shipmentState,
        topics.deliveriesCompleted,
      ].map(dlqTopic);
      harness.created.push(...dlqs);
      await createTopicsWithLeaders(
        admin,
        dlqs.map((t) => ({ topic: t, numPartitions: o.partitions, configEntries: KEEP_FOREVER })),
      );
    } finally {
      await admin.disconnect();
    }
    await harness.redis.connect();
    return harness;
  }

  get telemetryCleanAppId(): string {
    return `${this.applicationPrefix}-telemetry-clean`;
  }

  get shipmentStateAppId(): string {
    return `${this.applicationPrefix}-shipment-state`;
  }

  get repartitionTopic(): string {
    return repartitionTopic(this.shipmentStateAppId, SHIPMENTS_BY_OWNER);
  }

  private internalTopicSpecs(): InternalTopic[] {
    // The topologies `continuum streams` builds (the composition root); serdes play no part in
    // which internal topics they have.
    const serde = jsonSerde<never>();
    return platformTopologies({
      prefix: this.applicationPrefix,
      topics: this.topics,
      streams: this.config.streams,
      modelName: this.config.ml.modelName,
      serdes: {
        telemetry: serde,
        shipmentChange: serde,
        shipmentState: serde,
        deliveryExample: serde,
        etaModel: serde,
      },
    }).flatMap((topology) => topology.internalTopics());
  }

  /** Topics the stream applications create for themselves (changelogs, repartition, its DLQ). */
  internalTopics(): string[] {
    return [...this.internalTopicSpecs().map((t) => t.topic), dlqTopic(this.repartitionTopic)];
  }

  /**
   * Runs the simulator bounded: shipments into PostgreSQL (captured by the CDC source into
   * shipments.cdc) and telemetry through the SDK into telemetry.raw. Resolves once the CDC
   * source confirmed every change and has stopped.
   */
  async seed(
    simulation: SimulationOptions,
    /** Wraps the telemetry sink the simulator writes through (e.g. to inject records among its events). */
    interpose: (sink: TelemetrySink) => TelemetrySink = (sink) => sink,
  ): Promise<SeedRunReport> {
    const store = await PostgresShipmentStore.create(this.pool, this.pgSchema);
    this.cdc = new PostgresCdcSource(
      cdcOptionsFromConfig(this.config, {
        schema: this.pgSchema,
        slot: this.slot,
        publication: this.publication,
        topic: this.topics.shipmentsCdc,
      }),
      { log: this.log, metricsRegistry: new Registry() },
    );
    await this.cdc.start();
    const schemaId = await registerValueSchema(
      this.registry,
      this.topics.telemetryRaw,
      'VehicleTelemetry',
    );
    const sink = await TelemetryProducer.create({
      config: this.config,
      log: this.log,
      options: { topic: this.topics.telemetryRaw },
      registry: this.registry,
      kafka: this.kafka,
      metricsRegistry: new Registry(),
    });
    let report: SeedRunReport;
    try {
      report = await runSeed({
        simulation,
        mode: { kind: 'bounded' },
        store,
        sink: interpose(sink),
        encode: (event: VehicleTelemetry) => this.registry.encode(schemaId, event),
        log: this.log,
      });
    } finally {
      await sink.close();
    }
    const { rows } = await this.pool.query<{ lsn: string }>(
      'SELECT pg_current_wal_lsn()::text AS lsn',
    );
    const target = rows[0]?.lsn ?? '0/0';
    await waitFor(
      async () => {
        const r = await this.pool.query<{ caught_up: boolean }>(
          'SELECT confirmed_flush_lsn >= $2::pg_lsn AS caught_up FROM pg_replication_slots WHERE slot_name = $1',
          [this.slot, target],
        );
        return r.rows[0]?.caught_up === true;
      },
      { timeoutMs: 60_000, description: 'the CDC source to confirm every simulated change' },
    );
    await this.cdc.stop();
    this.cdc = undefined;
    return report;
  }

  /**
   * Creates the applications' changelog and repartition topics up front, with the runtime's
   * configs. The runtime creates missing ones at start as well; doing it here keeps topic
   * creation out of the window in which the crash test kills `continuum streams`.
   */
  private async createInternalTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const wanted = this.internalTopicSpecs().filter((t) => !existing.has(t.topic));
      await createTopicsWithLeaders(
        admin,
        wanted.map((t) => ({
          topic: t.topic,
          numPartitions: this.options.partitions,
          configEntries: Object.entries(internalTopicConfigs(t)).map(([name, value]) => ({
            name,
            value,
          })),
        })),
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** The environment `continuum` runs with on this harness's topics and ids. */
  /** Where this harness's `continuum streams` keep stores on disk (when started with them). */
  readonly streamsStateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-harness-state-'));

  private async streamsEnv(
    guarantee: ProcessingGuarantee,
    stores: StreamsStores = 'memory',
  ): Promise<NodeJS.ProcessEnv> {
    const t = this.topics;
    return {
      ...process.env,
      CONTINUUM_STREAMS_STORES: stores,
      CONTINUUM_STREAMS_STATE_DIR: this.streamsStateDir,
      // The harness's Kafka (e.g. a three-node cluster beside the test stack's broker).
      CONTINUUM_KAFKA_BROKERS: this.config.kafka.brokers.join(','),
      CONTINUUM_TOPIC_PARTITIONS: String(this.options.partitions),
      CONTINUUM_TOPIC_SHIPMENTS_CDC: t.shipmentsCdc,
      CONTINUUM_TOPIC_TELEMETRY_RAW: t.telemetryRaw,
      CONTINUUM_TOPIC_TELEMETRY_CLEAN: t.telemetryClean,
      CONTINUUM_TOPIC_SHIPMENT_STATE: t.shipmentState,
      CONTINUUM_TOPIC_DELIVERIES_COMPLETED: t.deliveriesCompleted,
      CONTINUUM_TOPIC_ETA_MODELS: t.etaModels,
      CONTINUUM_STREAMS_APPLICATION_PREFIX: this.applicationPrefix,
      CONTINUUM_STREAMS_GUARANTEE: guarantee,
      ...(this.streamsClient === undefined ? {} : { CONTINUUM_STREAMS_CLIENT: this.streamsClient }),
      ...(this.streamsThreads === undefined
        ? {}
        : { CONTINUUM_STREAMS_THREADS: this.streamsThreads }),
      CONTINUUM_STREAMS_METRICS_PORT: String(await freePort()),
      // The checks read the whole repartition topic (where a duplicate came from).
      CONTINUUM_STREAMS_REPARTITION_PURGE_INTERVAL_MS: '0',
      // A bounded input ends: the cleaner releases what it holds once quiet this long, and
      // the join makes its waiting deliveries final after that (the defaults take a minute).
      CONTINUUM_STREAMS_QUIET_AFTER_MS: String(PIPELINE_QUIET_AFTER_MS),
      CONTINUUM_STREAMS_FINISH_WHEN_QUIET_MS: String(PIPELINE_FINISH_WHEN_QUIET_MS),
      // With PIPELINE_DEBUG_LOG the children log every batch and commit (to that file).
      CONTINUUM_LOG_LEVEL: process.env.PIPELINE_DEBUG_LOG ? 'debug' : 'info',
    };
  }

  /**
   * Starts `continuum streams` (both applications) on this harness's topics and ids, with the
   * stores in memory or on disk (this harness's state directory).
   */
  async startStreams(
    guarantee: ProcessingGuarantee,
    stores: StreamsStores = 'memory',
  ): Promise<StreamsProcess> {
    await this.createInternalTopics();
    const env = await this.streamsEnv(guarantee, stores);
    const child = spawn(
      `${repoRoot}/node_modules/.bin/node`,
      [`${repoRoot}/bin/continuum.js`, 'streams'],
      { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const process_ = new StreamsProcess(child, Number(env.CONTINUUM_STREAMS_METRICS_PORT));
    this.streams.push(process_);
    return process_;
  }

  /**
   * Runs `continuum streams reset` (every instance stopped), as a user would: the applications
   * forget their state and read their inputs again from the beginning.
   */
  async resetStreams(): Promise<string> {
    // The reset deletes the internal topics, and the next run recreates them: a recreated topic
    // can end at the same offsets with its records elsewhere, so what was cached is forgotten.
    this.lastRecordCache.clear();
    const child = spawn(
      `${repoRoot}/node_modules/.bin/node`,
      [`${repoRoot}/bin/continuum.js`, 'streams', 'reset'],
      {
        cwd: repoRoot,
        env: await this.streamsEnv('exactly-once'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const text = Buffer.concat(output).toString('utf8');
    if (code !== 0) throw new Error(`continuum streams reset exited ${code}:\n${text}`);
    return text;
  }

  /** Starts the Redis and PostgreSQL shipment-state sinks in this process (metrics: on `metricsRegistry`). */
  async startSinks(
    metricsRegistry = new Registry(),
    options: { sessionTimeoutMs?: number } = {},
  ): Promise<void> {
    const decode = async (bytes: Buffer): Promise<UnifiedShipmentState> =>
      (await this.registry.decode(bytes)) as UnifiedShipmentState;
    const postgres = new ShipmentStatePostgresSink(this.pool, { schema: this.pgSchema });
    await postgres.ensureTable();
    const sinks = [
      {
        sink: new ShipmentStateRedisSink(this.redis, { keys: this.redisKeys }),
        groupId: this.sinkGroups.redis,
      },
      { sink: postgres, groupId: this.sinkGroups.postgres },
    ];
    for (const { sink, groupId } of sinks) {
      const runner = new SinkRunner<UnifiedShipmentState>({
        kafka: this.kafka,
        topic: this.topics.shipmentState,
        groupId,
        sink,
        decode,
        log: this.log,
        metricsRegistry,
        sessionTimeoutMs: options.sessionTimeoutMs,
      });
      this.runners.push(runner);
      await runner.start();
    }
  }

  /** The Redis key namespace the state sink writes under (for readers such as the API). */
  get redisKeyNamespace(): string {
    return this.redisNamespace;
  }

  /** The sinks' consumer groups, with what each does (the API reports their lag). */
  get sinkGroupIds(): { redis: string; postgres: string; mongodb: string } {
    return { ...this.sinkGroups };
  }

  /** Starts the MongoDB telemetry history sink (telemetry.clean → this harness's collection). */
  async startTelemetryHistorySink(): Promise<void> {
    this.mongo ??= await new MongoClient(this.config.mongodb.url).connect();
    const sink = new TelemetryHistorySink(this.mongo.db(), this.telemetryCollection);
    await sink.ensureIndexes();
    const runner = new SinkRunner<VehicleTelemetry>({
      kafka: this.kafka,
      topic: this.topics.telemetryClean,
      groupId: this.sinkGroups.mongodb,
      sink,
      decode: async (bytes) => (await this.registry.decode(bytes)) as VehicleTelemetry,
      log: this.log,
      metricsRegistry: new Registry(),
    });
    this.historyRunners.push(runner);
    await runner.start();
  }

  /** Records the group has committed, per input partition, and where each partition ends. */
  async progress(
    groupId: string,
    topic: string,
  ): Promise<{
    committed: number;
    end: number;
    done: boolean;
    detail: string;
    /** Per partition: committed offset and end offset. */
    ends: Map<number, { committed: number; high: number }>;
  }> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const at = new Map(
        committed?.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]),
      );
      let sum = 0;
      let end = 0;
      let done = true;
      const parts: string[] = [];
      const byPartition = new Map<number, { committed: number; high: number }>();
      for (const e of ends) {
        const c = at.get(e.partition) ?? 0;
        byPartition.set(e.partition, { committed: c, high: Number(e.high) });
        sum += c;
        end += Number(e.high);
        if (c < Number(e.high)) done = false;
        parts.push(`p${e.partition} ${c}/${e.high}`);
      }
      return { committed: sum, end, done, detail: parts.join(', '), ends: byPartition };
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * What the join's stores hold (their changelogs, latest per key) of these shipments: owned and
   * finished, waiting for a handoff, their trip, or nothing. For a failed wait on deliveries.
   */
  private async joinStateOf(shipmentIds: readonly string[]): Promise<string> {
    const lines: string[] = [];
    const { shipments, pending, trips } = SHIPMENT_STATE_STORES;
    for (const store of [shipments, pending, trips]) {
      const latest = new Map<string, string>();
      const topic = changelogTopic(this.shipmentStateAppId, store);
      for (const m of await readToEnd(this.kafka, topic).catch(() => [])) {
        const key = m.key?.toString() ?? '';
        if (shipmentIds.some((id) => key.includes(id)))
          latest.set(key, m.value === null ? 'deleted' : m.value.toString().slice(0, 600));
      }
      for (const id of shipmentIds) {
        const entries = [...latest].filter(([key]) => key.includes(id));
        lines.push(
          `${store} ${id}: ${entries.length === 0 ? 'nothing' : entries.map(([, v]) => v).join(' | ')}`,
        );
      }
    }
    return `\n${lines.join('\n')}`;
  }

  /**
   * Whether the group has drained every partition by the rule of core/group-drained.ts, with
   * each partition's last record read.
   * Needed for topics written in transactions: the stream runtime and the sink runner never
   * commit past a partition's trailing commit marker (kafkajs hands over no batch holding only
   * control records), so their committed offset stays one short of the end (reported).
   */
  private async committedPastLastRecord(
    _committed: number,
    ends: ReadonlyMap<number, { committed: number; high: number }>,
    topic: string,
  ): Promise<boolean> {
    const signature = [...ends].map(([p, e]) => `${p}:${e.high}`).join(',');
    let last = this.lastRecordCache.get(topic);
    if (last?.signature !== signature) {
      const offsets = new Map<number, number>();
      for (const m of await readToEnd(this.kafka, topic))
        offsets.set(m.partition, Math.max(offsets.get(m.partition) ?? -1, Number(m.offset)));
      last = { signature, offsets };
      this.lastRecordCache.set(topic, last);
    }
    const short: string[] = [];
    this.lastRecordDetail = [...ends.keys()]
      .map((p) => `p${p} last record ${last.offsets.get(p) ?? 'none'}`)
      .join(', ');
    for (const [partition, e] of ends) {
      const lastRecord = last.offsets.get(partition);
      const tail = {
        kind: 'last-record',
        offset: lastRecord === undefined ? undefined : BigInt(lastRecord),
      } as const;
      if (!partitionDrained(BigInt(e.high), BigInt(e.committed), tail)) return false;
      if (e.committed < e.high) short.push(`${topic}-${partition} ${e.committed}/${e.high}`);
    }
    this.stuckBehindMarkers = short;
    return true;
  }

  /**
   * True once every stage has committed its inputs to their ends, checked in pipeline order so
   * each downstream end offset is read after its producer finished.
   */
  async processedEverything(): Promise<boolean> {
    const stages: [string, string][] = [
      [this.telemetryCleanAppId, this.topics.telemetryRaw],
      [this.shipmentStateAppId, this.topics.shipmentsCdc],
      [this.shipmentStateAppId, this.repartitionTopic],
      [this.shipmentStateAppId, this.topics.telemetryClean],
      ...(this.runners.length > 0
        ? ([
            [this.sinkGroups.redis, this.topics.shipmentState],
            [this.sinkGroups.postgres, this.topics.shipmentState],
          ] as [string, string][])
        : []),
      ...(this.historyRunners.length > 0
        ? ([[this.sinkGroups.mongodb, this.topics.telemetryClean]] as [string, string][])
        : []),
    ];
    for (const [group, topic] of stages) {
      const p = await this.progress(group, topic);
      if (p.done || (await this.committedPastLastRecord(p.committed, p.ends, topic))) continue;
      // Thrown, not `false`: a timeout then says which stage stood still, and where.
      throw new Error(
        `${group} has committed ${p.committed} of ${p.end} records of ${topic} (${p.detail}; ${this.lastRecordDetail})`,
      );
    }
    for (const runner of [...this.runners, ...this.historyRunners])
      if (runner.error) throw runner.error;
    return true;
  }

  async waitUntilProcessed(streams: StreamsProcess | undefined, timeoutMs = 60_000): Promise<void> {
    // A process that stopped ends the wait at once (waitFor retries what throws).
    const outcome = await waitFor(
      async () => (streams?.exited || streams?.failed ? 'stopped' : this.processedEverything()),
      {
        timeoutMs,
        intervalMs: 250,
        maxIntervalMs: 1_000,
        description: 'every stage to commit its inputs to their ends',
      },
    ).catch((err: unknown) => {
      if (streams) process.stderr.write(`last lines of continuum streams:\n${streams.tail()}\n`);
      throw err;
    });
    if (outcome === 'stopped' && streams)
      throw new Error(
        `continuum streams failed or exited early (${streams.child.exitCode ?? streams.child.signalCode}):\n${streams.tail()}`,
      );
  }

  /**
   * Waits until every stage committed its inputs and the outputs that only come once the input
   * has ended (the cleaner's held readings, the join's waiting deliveries) are there.
   */
  async waitUntilSettled(
    streams: StreamsProcess | undefined,
    expected: SettledOutputs,
    timeoutMs = 120_000,
  ): Promise<void> {
    const started = Date.now();
    await this.waitUntilProcessed(streams, timeoutMs);
    let last = '';
    let missing: string[] = [];
    await waitFor(
      async () => {
        if (streams?.exited || streams?.failed)
          throw new Error(`continuum streams stopped:\n${streams.tail()}`);
        const clean = new Set(
          (await this.read<VehicleTelemetry>(this.topics.telemetryClean)).map(
            (r) => r.value?.eventId,
          ),
        ).size;
        const seen = new Set(
          (await this.read<{ shipmentId: string }>(this.topics.deliveriesCompleted)).map(
            (r) => r.value?.shipmentId,
          ),
        );
        const examples = seen.size;
        missing = [...expected.exampleIds].filter((id) => !seen.has(id));
        last = `clean readings ${clean}/${expected.cleanReadings}, examples ${examples}/${expected.examples}`;
        return clean >= expected.cleanReadings && examples >= expected.examples;
      },
      {
        timeoutMs: Math.max(10_000, timeoutMs - (Date.now() - started)),
        intervalMs: 1_000,
        description: 'the held readings and waiting deliveries of the ended input',
      },
    ).catch(async (err: unknown) => {
      // What the process said last (the info log: warnings such as an input end poll given up).
      if (streams) process.stderr.write(`last lines of continuum streams:\n${streams.tail()}\n`);
      const held = missing.length > 0 ? await this.joinStateOf(missing) : '';
      throw new Error(
        `${String(err)} (${last}${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''})${held}`,
      );
    });
    // What the last releases wrote must reach the sinks too.
    await this.waitUntilProcessed(streams, timeoutMs);
  }

  /**
   * Waits until deliveries.completed holds `count` distinct shipments' examples past `from` (per
   * partition): a replay's second copy. Then until every stage committed its inputs again.
   */
  async waitUntilOutputsAfter(
    from: ReadonlyMap<number, number>,
    count: number,
    timeoutMs = 120_000,
  ): Promise<void> {
    let seen = 0;
    await waitFor(
      async () => {
        const after = (await this.read<{ shipmentId: string }>(this.topics.deliveriesCompleted))
          .filter((r) => r.offset >= (from.get(r.partition) ?? 0))
          .map((r) => r.value?.shipmentId);
        seen = new Set(after).size;
        return seen >= count;
      },
      {
        timeoutMs,
        intervalMs: 1_000,
        description: `${count} examples written again after the replay started`,
      },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)} (${seen} so far)`);
    });
    await this.waitUntilProcessed(undefined, timeoutMs);
  }

  /** Decodes like the stream runtime's Avro serde: Confluent framing, then the registry. */
  async decode<T>(value: Buffer | null): Promise<T | undefined> {
    if (value === null || value.length < 5 || value[0] !== 0) return undefined;
    try {
      return (await this.registry.decode(value)) as T;
    } catch {
      return undefined;
    }
  }

  /** Every committed record of `topic`, decoded, in partition and offset order. */
  async read<T>(topic: string): Promise<DecodedRecord<T>[]> {
    const messages = await readToEnd(this.kafka, topic);
    const records = await Promise.all(
      messages.map(async (m) => ({
        partition: m.partition,
        offset: Number(m.offset),
        timestamp: Number(m.timestamp),
        key: m.key?.toString('utf8') ?? null,
        value: await this.decode<T>(m.value),
        raw: m,
      })),
    );
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  }

  /** The raw records of a topic (no decoding): for DLQs, whose values are the rejected bytes. */
  async readRaw(topic: string): Promise<ConsumedMessage[]> {
    return readToEnd(this.kafka, topic);
  }

  /** What the Redis sink stored: every shipment hash under this harness's namespace. */
  async redisStates(): Promise<Map<string, UnifiedShipmentState>> {
    const keys = await this.redis.keys(`${this.redisKeys.hashPrefix}*`);
    const states = new Map<string, UnifiedShipmentState>();
    for (const key of keys) {
      const id = key.slice(this.redisKeys.hashPrefix.length);
      const state = await getShipmentState(this.redis, id, this.redisKeys);
      if (state) states.set(id, state);
    }
    return states;
  }

  /** What the PostgreSQL sink stored in this harness's shipment_state table (or another schema's). */
  async postgresStates(schema = this.pgSchema): Promise<Map<string, UnifiedShipmentState>> {
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT * FROM ${schema}.shipment_state ORDER BY shipment_id`,
    );
    return new Map(rows.map((r) => [String(r.shipment_id), rowToShipmentState(r)]));
  }

  /** Stops every sink, each even when another's stop fails; the first failure is thrown. */
  async stopSinks(): Promise<void> {
    const runners = [...this.runners.splice(0), ...this.historyRunners.splice(0)];
    const results = await Promise.allSettled(runners.map((runner) => runner.stop()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Removes everything: processes, topics, groups, slot, publication, schema, keys, subjects. */
  async cleanup(): Promise<void> {
    for (const s of this.streams) await s.kill('SIGKILL').catch(() => undefined);
    rmSync(this.streamsStateDir, { recursive: true, force: true });
    await this.stopSinks().catch(() => undefined);
    await this.cdc?.stop().catch(() => undefined);
    await this.pool
      .query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
        [this.slot],
      )
      .catch(() => undefined);
    await this.pool.query(`DROP PUBLICATION IF EXISTS ${this.publication}`).catch(() => undefined);
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.pgSchema} CASCADE`).catch(() => undefined);
    await this.pool.end();
    if (this.mongo) {
      await this.mongo
        .db()
        .collection(this.telemetryCollection)
        .drop()
        .catch(() => undefined);
      await this.mongo.close();
    }
    const stored = await this.redis.keys(`${this.redisNamespace}*`);
    if (stored.length > 0) await this.redis.del(...stored);
    await this.redis.quit();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // The applications' groups, and the restore readers' a killed process left behind. A killed
      // member stays in its group until its session times out, and a group with members cannot be
      // deleted: retried until then.
      const myGroups = async (): Promise<string[]> =>
        (await admin.listGroups()).groups
          .map((g) => g.groupId)
          .filter(
            (g) =>
              g.startsWith(`${this.applicationPrefix}-`) ||
              g === this.sinkGroups.redis ||
              g === this.sinkGroups.postgres ||
              g === this.sinkGroups.mongodb,
          );
      await waitFor(
        async () => {
          const groups = await myGroups();
          if (groups.length === 0) return true;
          await admin.deleteGroups(groups);
          return (await myGroups()).length === 0;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 500,
          description: "the pipeline's consumer groups deleted",
        },
      ).catch(() => undefined);
      const existing = new Set(await admin.listTopics());
      const mine = [...this.created, ...this.internalTopics()].filter((t) => existing.has(t));
      // While debugging (PIPELINE_DEBUG_LOG) the topics stay, to be read or dumped afterwards.
      if (!process.env.PIPELINE_DEBUG_LOG) await deleteTestTopics(admin, mine);
    } finally {
      await admin.disconnect();
    }
    const t = this.topics;
    await deleteTestSubjects(this.config, [
      t.shipmentsCdc,
      t.telemetryRaw,
      t.telemetryClean,
      t.shipmentState,
      t.deliveriesCompleted,
      t.etaModels,
    ]).catch(() => undefined);
  }

  // ---- ETA trainer (issue 11) ----------------------------------------------------------------
  // For test/integration/ml-training.test.ts; nothing above uses these.

  /** The trainer's consumer group: under the application prefix, so cleanup() deletes it. */
  get trainerGroupId(): string {
    return `${this.applicationPrefix}-ml`;
  }

  /** `continuum streams` as startStreams starts it, serving the ETA model family `modelName`. */
  async startStreamsServing(
    guarantee: ProcessingGuarantee,
    modelName: string,
  ): Promise<StreamsProcess> {
    await this.createInternalTopics();
    const child = spawn(
      `${repoRoot}/node_modules/.bin/node`,
      [`${repoRoot}/bin/continuum.js`, 'streams'],
      {
        cwd: repoRoot,
        env: { ...(await this.streamsEnv(guarantee)), CONTINUUM_ML_MODEL_NAME: modelName },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const process_ = new StreamsProcess(child);
    this.streams.push(process_);
    return process_;
  }

  /**
   * `continuum ml` on this harness's topics, on a free port, with `env` on top (its model name,
   * window, MLflow). The caller stops it (SIGTERM) before cleanup(), so its group can be deleted.
   */
  async startTrainer(env: Record<string, string>): Promise<TrainerProcess> {
    const port = await freePort();
    const child = spawn(
      `${repoRoot}/node_modules/.bin/node`,
      [`${repoRoot}/bin/continuum.js`, 'ml'],
      {
        cwd: repoRoot,
        env: {
          ...(await this.streamsEnv('exactly-once')),
          CONTINUUM_ML_GROUP_ID: this.trainerGroupId,
          CONTINUUM_ML_METRICS_PORT: String(port),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new TrainerProcess(child, `http://127.0.0.1:${port}`);
  }
}

/** `continuum ml` as a child process: its URL (/metrics, /train) and its last log lines. */
export class TrainerProcess extends StreamsProcess {
  readonly url: string;

  constructor(child: ChildProcess, url: string) {
    super(child);
    this.url = url;
  }

  override get failed(): boolean {
    return this.tail().includes('"msg":"ml failed"');
  }

  /** One sample of its /metrics, e.g. continuum_ml_window_deliveries (undefined: not there yet). */
  async metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  }
}
