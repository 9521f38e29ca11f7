// Configuration: every endpoint, port, topic and knob read once from CONTINUUM_* environment
// variables into a validated, frozen object. Only entry points call loadConfig(process.env).
import os from 'node:os';
import nodePath from 'node:path';
import { parseApiKeys, type ApiKeyEntry } from './api-keys.ts';
import {
  KAFKA_CLUSTER_SIZES,
  kafkaNodeAddresses,
  recordedKafkaCluster,
  type KafkaClusterSize,
} from './kafka-cluster.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { nativePostgresPassword, withPassword } from './native-postgres-password.ts';
import * as parse from './env-vars.ts';
import { repoRoot } from './paths.ts';

type Env = Readonly<Record<string, string | undefined>>;

interface VariableSpec<T> {
  doc: string;
  /** The default as the user would write it; a function when it depends on the machine. */
  default: string | ((env: Env) => string);
  parse: parse.EnvParser<T>;
}

function variable<T>(
  doc: string,
  defaultValue: VariableSpec<T>['default'],
  parser: parse.EnvParser<T>,
): VariableSpec<T> {
  return { doc, default: defaultValue, parse: parser };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const ML_WINDOW_KINDS = ['sliding', 'tumbling'] as const;
export const ML_ALGORITHMS = [
  'linear',
  'gradient-boosted-trees',
  'regression-tree',
  'random-forest',
] as const;
export type MlAlgorithm = (typeof ML_ALGORITHMS)[number];

function stateDirOf(env: Env): string {
  return nodePath.resolve(env.CONTINUUM_STATE_DIR || nodePath.join(repoRoot, '.continuum'));
}

/** The native cluster's size: as set, else as recorded when its storage was formatted, else 1. */
function nativeKafkaNodes(env: Env): KafkaClusterSize {
  if (env.CONTINUUM_KAFKA_NODES === '3' || env.CONTINUUM_KAFKA_NODES === '1')
    return Number(env.CONTINUUM_KAFKA_NODES) as KafkaClusterSize;
  try {
    return recordedKafkaCluster(stateDirOf(env))?.nodes ?? 1;
  } catch {
    // An unreadable record is reported by `stack up`, which reads it again.
    return 1;
  }
}

/** Every variable Continuum reads, with its doc string and default (local stack, conventional ports). */
export const CONFIG_VARIABLES = {
  CONTINUUM_LOG_LEVEL: variable('pino log level', 'info', parse.oneOf(LOG_LEVELS)),
  CONTINUUM_STATE_DIR: variable(
    'where the native stack keeps data, logs and pid files (git-ignored)',
    () => nodePath.join(repoRoot, '.continuum'),
    parse.path,
  ),
  CONTINUUM_CACHE_DIR: variable(
    'where downloads (Kafka jars, Apicurio, FerretDB build, MLflow virtualenv) are cached, outside the work tree',
    (env) =>
      nodePath.join(env.XDG_CACHE_HOME ?? nodePath.join(os.homedir(), '.cache'), 'continuum'),
    parse.path,
  ),

  CONTINUUM_KAFKA_BROKERS: variable(
    'Kafka bootstrap servers, comma-separated host:port (default: every node of the native cluster)',
    (env) =>
      kafkaNodeAddresses(
        { host: '127.0.0.1', port: 9092, controllerPort: 9093, metricsPort: 9404 },
        nativeKafkaNodes(env),
      )
        .map((node) => `${node.host}:${node.port}`)
        .join(','),
    parse.hostPortList,
  ),
  CONTINUUM_KAFKA_NODES: variable(
    "KRaft nodes of the native Kafka cluster: 1, or 3 (replication factor 3, min.insync.replicas 2; node n listens on the first node's ports + (n − 1) × 100); default: the size its data was created with (`stack up --brokers`)",
    (env) => String(nativeKafkaNodes(env)),
    parse.oneOf(KAFKA_CLUSTER_SIZES),
  ),
  CONTINUUM_KAFKA_CONTROLLER_PORT: variable(
    'KRaft controller listener port of the native broker',
    '9093',
    parse.port,
  ),
  CONTINUUM_KAFKA_CLIENT_ID: variable(
    'client id prefix of every Kafka client',
    'continuum',
    parse.text,
  ),
  CONTINUUM_SCHEMA_REGISTRY_URL: variable(
    'Confluent-compatible schema registry API base URL',
    'http://127.0.0.1:8081/apis/ccompat/v7',
    parse.url(['http:', 'https:']),
  ),
  CONTINUUM_POSTGRES_URL: variable(
    'PostgreSQL connection URL (system of record + shipment_state)',
    'postgres://continuum@127.0.0.1:5432/continuum',
    parse.url(['postgres:', 'postgresql:']),
  ),
  CONTINUUM_REDIS_URL: variable(
    'Redis URL (hot shipment state)',
    'redis://127.0.0.1:6379',
    parse.url(['redis:', 'rediss:']),
  ),
  CONTINUUM_MONGODB_URL: variable(
    'MongoDB-protocol URL (telemetry history)',
    'mongodb://127.0.0.1:27017/continuum',
    parse.url(['mongodb:', 'mongodb+srv:']),
  ),
  CONTINUUM_MLFLOW_URL: variable(
    'MLflow tracking server URL',
    'http://127.0.0.1:5000',
    parse.url(['http:', 'https:']),
  ),
  CONTINUUM_PROMETHEUS_URL: variable(
    'Prometheus URL',
    'http://127.0.0.1:9090',
    parse.url(['http:', 'https:']),
  ),

  CONTINUUM_TOPIC_PARTITIONS: variable(
    'partitions of every co-partitioned data topic',
    '6',
    parse.integer(1, 1024),
  ),
  CONTINUUM_TOPIC_SHIPMENTS_CDC: variable(
    'shipment change events from the PostgreSQL source',
    'shipments.cdc',
    parse.topicName,
  ),
  CONTINUUM_TOPIC_TELEMETRY_RAW: variable(
    'vehicle telemetry as produced',
    'telemetry.raw',
    parse.topicName,
  ),
  CONTINUUM_TOPIC_TELEMETRY_CLEAN: variable(
    'validated, deduplicated, ordered telemetry',
    'telemetry.clean',
    parse.topicName,
  ),
  CONTINUUM_TOPIC_SHIPMENT_STATE: variable(
    'Unified Shipment State (compacted)',
    'shipment.state',
    parse.topicName,
  ),
  CONTINUUM_TOPIC_DELIVERIES_COMPLETED: variable(
    'ETA training examples',
    'deliveries.completed',
    parse.topicName,
  ),
  CONTINUUM_TOPIC_ETA_MODELS: variable(
    'published ETA models (compacted)',
    'eta.models',
    parse.topicName,
  ),

  CONTINUUM_API_HOST: variable('address the REST API binds to', '127.0.0.1', parse.text),
  CONTINUUM_API_PORT: variable('REST API port (also serves /metrics)', '8080', parse.port),
  CONTINUUM_API_KEYS: variable(
    'API keys, `name:scope[,scope…]:sha256:<hex of the key>[:requests-per-minute]` separated by ";" (scopes: read, ingest, replay, ml, admin; `continuum api keygen` makes one); none by default',
    '',
    parseApiKeys,
  ),
  CONTINUUM_API_ANONYMOUS_READS: variable(
    'who may read without a key: loopback (clients on 127.0.0.0/8 and ::1) or none (every read needs a key with scope read)',
    'loopback',
    parse.oneOf(['loopback', 'none'] as const),
  ),
  CONTINUUM_API_RATE_LIMIT_PER_MINUTE: variable(
    'requests per minute per API key (anonymous readers: per client address); a key entry may set its own',
    '1200',
    parse.integer(1, 10_000_000),
  ),
  CONTINUUM_API_BODY_LIMIT_BYTES: variable(
    'largest request body the API accepts (bytes); larger ones are refused with 413',
    '1048576',
    parse.integer(1_024, 64 * 1024 * 1024),
  ),
  CONTINUUM_STREAMS_METRICS_PORT: variable(
    '/metrics port of `continuum streams`',
    '9464',
    parse.port,
  ),
  CONTINUUM_CONNECT_METRICS_PORT: variable(
    '/metrics port of `continuum connect`',
    '9465',
    parse.port,
  ),
  CONTINUUM_ML_METRICS_PORT: variable('/metrics port of `continuum ml`', '9466', parse.port),
  CONTINUUM_SEED_METRICS_PORT: variable('/metrics port of `continuum seed`', '9467', parse.port),
  CONTINUUM_LAG_METRICS_PORT: variable(
    '/metrics port of `continuum lag` (consumer group lag)',
    '9471',
    parse.port,
  ),
  CONTINUUM_POSTGRES_EXPORTER_PORT: variable(
    '/metrics port of the PostgreSQL exporter (postgres_exporter) that `stack up` runs beside PostgreSQL',
    '9187',
    parse.port,
  ),
  CONTINUUM_REDIS_EXPORTER_PORT: variable(
    '/metrics port of the Redis exporter (redis_exporter) that `stack up` runs beside Redis',
    '9121',
    parse.port,
  ),
  CONTINUUM_KAFKA_METRICS_PORT: variable(
    "/metrics port of the Prometheus JMX agent inside the broker's JVM (broker metrics)",
    '9404',
    parse.port,
  ),

  CONTINUUM_ML_MODEL_NAME: variable(
    'ETA model family: the key the trainer publishes on eta.models and the join serves, and the name of its MLflow experiment and registered model',
    'eta',
    parse.topicName,
  ),
  CONTINUUM_ML_GROUP_ID: variable(
    'consumer group of `continuum ml` on deliveries.completed (its committed offsets mark where its window starts)',
    'continuum-ml-trainer',
    parse.topicName,
  ),
  CONTINUUM_ML_WINDOW: variable(
    'training window of `continuum ml`: sliding (the latest deliveries, retrained every slide) or tumbling (trained on when full, then emptied)',
    'sliding',
    parse.oneOf(ML_WINDOW_KINDS),
  ),
  CONTINUUM_ML_WINDOW_SPAN_MS: variable(
    'event time (delivery arrivals) a training window spans at most (ms)',
    String(7 * 86_400_000),
    parse.integer(60_000, 365 * 86_400_000),
  ),
  CONTINUUM_ML_WINDOW_MAX_DELIVERIES: variable(
    'deliveries a training window holds at most (sliding: the oldest leave; tumbling: the window closes)',
    '20000',
    parse.integer(10, 10_000_000),
  ),
  CONTINUUM_ML_WINDOW_SLIDE_MS: variable(
    'sliding window: retrain when arrivals have moved on this much event time since the last training (ms)',
    String(6 * 3_600_000),
    parse.integer(60_000, 365 * 86_400_000),
  ),
  CONTINUUM_ML_WINDOW_SLIDE_DELIVERIES: variable(
    'sliding window: retrain after this many new deliveries, whichever of this and the slide time comes first',
    '200',
    parse.integer(1, 10_000_000),
  ),
  CONTINUUM_ML_MIN_DELIVERIES: variable(
    'fewest deliveries a training runs on; a window with fewer waits (an on-demand training is refused)',
    '60',
    parse.integer(10, 10_000_000),
  ),
  CONTINUUM_ML_HOLDOUT_FRACTION: variable(
    'share of the latest deliveries of a window held out of training: the first half calibrates the intervals, the second half measures every model and baseline',
    '0.3',
    parse.decimal(0.1, 0.6),
  ),
  CONTINUUM_ML_PROMOTION_MARGIN: variable(
    "a challenger becomes champion only when its MAE is at most (1 - this) times the champion's on the same holdout",
    '0.02',
    parse.decimal(0, 0.9),
  ),
  CONTINUUM_ML_INTERVAL_COVERAGE: variable(
    'coverage the prediction intervals are calibrated for (split-conformal)',
    '0.9',
    parse.decimal(0.5, 0.99),
  ),
  CONTINUUM_ML_ALGORITHMS: variable(
    'algorithms each training tries, the best on the holdout wins (regression-tree and random-forest train on a sample: ml-cart is quadratic in the examples)',
    'linear,gradient-boosted-trees',
    parse.listOf(ML_ALGORITHMS),
  ),
  CONTINUUM_ML_DRIFT_CHECKPOINTS: variable(
    "completed deliveries' checkpoints the live MAE of the drift gauge is measured over (the latest ones)",
    '2000',
    parse.integer(10, 1_000_000),
  ),
  CONTINUUM_ML_TRAINER_URL: variable(
    "where the API reaches `continuum ml`'s control endpoint (POST /train) — its metrics port",
    'http://127.0.0.1:9466',
    parse.url(['http:', 'https:']),
  ),
  CONTINUUM_ML_MLFLOW_TIMEOUT_MS: variable(
    'timeout of one MLflow request (ms)',
    '10000',
    parse.integer(100, 600_000),
  ),
  CONTINUUM_ML_MLFLOW_RETRY_MS: variable(
    'how long a failing MLflow call is retried with backoff before the training fails (ms)',
    '120000',
    parse.integer(0, 3_600_000),
  ),

  CONTINUUM_CDC_SCHEMA: variable(
    'PostgreSQL schema of the table the CDC source captures',
    'public',
    parse.sqlIdentifier,
  ),
  CONTINUUM_CDC_TABLE: variable(
    'table the CDC source captures (REPLICA IDENTITY FULL)',
    'shipments',
    parse.sqlIdentifier,
  ),
  CONTINUUM_CDC_PUBLICATION: variable(
    'publication of the CDC source, created when missing',
    'continuum_shipments_pub',
    parse.sqlIdentifier,
  ),
  CONTINUUM_CDC_SLOT: variable(
    'logical replication slot of the CDC source, created when missing',
    'continuum_shipments_slot',
    parse.slotName,
  ),
  CONTINUUM_CDC_HEARTBEAT_MS: variable(
    'how often an idle CDC source confirms its position (ms)',
    '10000',
    parse.integer(100, 3_600_000),
  ),
  CONTINUUM_CDC_SNAPSHOT_MODE: variable(
    'initial: snapshot the table when the slot is new; never: stream changes only',
    'initial',
    parse.oneOf(['initial', 'never'] as const),
  ),
  CONTINUUM_CDC_SPILL_AFTER_CHANGES: variable(
    'a source transaction with more changes than this is held in a file until its COMMIT, not in memory',
    '20000',
    parse.integer(1, 10_000_000),
  ),
  CONTINUUM_CDC_SPILL_DIR: variable(
    'where the CDC source spills transactions larger than CONTINUUM_CDC_SPILL_AFTER_CHANGES',
    (env) => nodePath.join(stateDirOf(env), 'cdc-spill'),
    parse.path,
  ),

  CONTINUUM_ARCHIVE_FLUSH_RECORDS: variable(
    'the telemetry archive (MongoDB sink) flushes after this many records: larger flushes make larger buckets, cheaper per reading',
    '10000',
    parse.integer(1, 1_000_000),
  ),
  CONTINUUM_ARCHIVE_FLUSH_BYTES: variable(
    'the telemetry archive flushes after this many bytes of record values, if before CONTINUUM_ARCHIVE_FLUSH_RECORDS',
    String(4 * 1024 * 1024),
    parse.integer(1_024, 1_073_741_824),
  ),

  CONTINUUM_STREAMS_CLIENT: variable(
    'Kafka client the stream runtime runs on (bench/ measures both)',
    'kafkajs',
    parse.oneOf(['kafkajs', 'platformatic'] as const),
  ),
  CONTINUUM_STREAMS_THREADS: variable(
    '`continuum streams` runs its stream applications all on the main thread (one) or each on a ' +
      'worker thread of its own (per-application: more cores used, ~150 MiB more memory; on 2 cores ' +
      'shared with the broker it gained within the noise, bench/README.md)',
    'one',
    parse.oneOf(['per-application', 'one'] as const),
  ),
  CONTINUUM_STREAMS_STORES: variable(
    "where the stream applications' key-value stores keep committed state: memory (restored in full " +
      'from the changelog at every start) or disk (LMDB under CONTINUUM_STREAMS_STATE_DIR; larger ' +
      'than the heap, and a clean restart restores only the changelog tail)',
    'memory',
    parse.oneOf(['memory', 'disk'] as const),
  ),
  CONTINUUM_STREAMS_STATE_DIR: variable(
    'where stores on disk live, a directory per application id; one instance of `continuum streams` per directory',
    (env) => nodePath.join(stateDirOf(env), 'streams'),
    parse.path,
  ),
  CONTINUUM_STREAMS_GUARANTEE: variable(
    'processing guarantee of `continuum streams`',
    'exactly-once',
    parse.oneOf(['exactly-once', 'at-least-once'] as const),
  ),
  CONTINUUM_STREAMS_APPLICATION_PREFIX: variable(
    "prefix of the stream applications' ids (consumer groups, changelog and repartition topics)",
    'continuum',
    parse.topicName,
  ),
  CONTINUUM_STREAMS_COMMIT_INTERVAL_MS: variable(
    'how often a stream task commits its transaction (ms)',
    '100',
    parse.integer(0, 60_000),
  ),
  CONTINUUM_STREAMS_REPARTITION_PURGE_INTERVAL_MS: variable(
    'how often consumed repartition records are deleted (ms; 0 = never)',
    '30000',
    parse.integer(0, 86_400_000),
  ),
  CONTINUUM_STREAMS_MAX_FUTURE_MS: variable(
    'an event time further than this ahead of the wall clock is dead-lettered as `future` (ms)',
    '300000',
    parse.integer(0, 365 * 86_400_000),
  ),
  CONTINUUM_STREAMS_MAX_TRANSACTION_RECORDS: variable(
    'input records one stream transaction (or at-least-once commit) holds at most',
    '10000',
    parse.integer(1, 10_000_000),
  ),
  CONTINUUM_STREAMS_MAX_TRANSACTION_BYTES: variable(
    'output bytes one stream transaction holds at most before it is committed',
    String(16 * 1024 * 1024),
    parse.integer(1024, 1024 * 1024 * 1024),
  ),
  CONTINUUM_STREAMS_QUIET_AFTER_MS: variable(
    "wall-clock time without input after which the telemetry cleaner releases the readings it holds for reordering (a quiet partition's last grace period)",
    '10000',
    parse.integer(100, 86_400_000),
  ),
  CONTINUUM_STREAMS_FINISH_WHEN_QUIET_MS: variable(
    "wall-clock time without input after which the join makes final the finished shipments still waiting for their vehicle's readings; keep it well above CONTINUUM_STREAMS_QUIET_AFTER_MS, so the cleaner's released readings arrive first",
    '60000',
    parse.integer(100, 86_400_000),
  ),
  CONTINUUM_STREAMS_READING_HISTORY_MS: variable(
    "event time of each vehicle's readings the join keeps, to join shipment changes that arrive after later readings",
    String(24 * 3_600_000),
    parse.integer(0, 30 * 86_400_000),
  ),
  CONTINUUM_STREAMS_FINISH_AFTER_MS: variable(
    "event time after a shipment's end after which it is final even if its vehicle sent nothing newer",
    String(30 * 60_000),
    parse.integer(0, 7 * 86_400_000),
  ),
  CONTINUUM_STREAMS_SHIPMENT_RETENTION_MS: variable(
    'event time a finished shipment is remembered by the stream processors (to recognize redeliveries)',
    String(24 * 3_600_000),
    parse.integer(0, 365 * 86_400_000),
  ),

  CONTINUUM_STACK_START_TIMEOUT_MS: variable(
    'how long `stack up` waits for one service to become ready',
    '180000',
    parse.integer(1_000, 3_600_000),
  ),
} as const;

export type ConfigVariable = keyof typeof CONFIG_VARIABLES;
type Parsed = { [K in ConfigVariable]: ReturnType<(typeof CONFIG_VARIABLES)[K]['parse']> };

export interface TopicsConfig {
  partitions: number;
  shipmentsCdc: string;
  telemetryRaw: string;
  telemetryClean: string;
  shipmentState: string;
  deliveriesCompleted: string;
  etaModels: string;
}

/** The ETA trainer (`continuum ml`) and the model the join serves. */
export interface MlConfig {
  modelName: string;
  groupId: string;
  window: {
    kind: (typeof ML_WINDOW_KINDS)[number];
    spanMs: number;
    maxDeliveries: number;
    slideMs: number;
    slideDeliveries: number;
  };
  minDeliveries: number;
  holdoutFraction: number;
  promotionMargin: number;
  intervalCoverage: number;
  algorithms: readonly MlAlgorithm[];
  driftCheckpoints: number;
  trainerUrl: string;
  mlflowTimeoutMs: number;
  mlflowRetryMs: number;
}

export interface Config {
  logLevel: (typeof LOG_LEVELS)[number];
  stateDir: string;
  cacheDir: string;
  kafka: {
    brokers: readonly string[];
    /** Nodes of the native KRaft cluster `stack up` runs. */
    nodes: KafkaClusterSize;
    controllerPort: number;
    clientId: string;
  };
  schemaRegistry: { url: string };
  postgres: { url: string };
  redis: { url: string };
  mongodb: { url: string };
  mlflow: { url: string };
  ml: MlConfig;
  prometheus: { url: string };
  topics: TopicsConfig;
  api: {
    host: string;
    port: number;
    keys: readonly ApiKeyEntry[];
    anonymousReads: 'loopback' | 'none';
    rateLimitPerMinute: number;
    bodyLimitBytes: number;
  };
  metricsPorts: {
    api: number;
    streams: number;
    connect: number;
    ml: number;
    seed: number;
    lag: number;
  };
  /** /metrics ports of what measures the services themselves (issue 12). */
  exporters: { postgres: number; redis: number; kafka: number };
  cdc: {
    schema: string;
    table: string;
    publication: string;
    slot: string;
    heartbeatIntervalMs: number;
    snapshotMode: 'initial' | 'never';
    spillAfterChanges: number;
    spillDirectory: string;
  };
  /** The telemetry archive's sink (`continuum connect mongodb`). */
  archive: { flushRecords: number; flushBytes: number };
  streams: {
    client: 'kafkajs' | 'platformatic';
    threads: 'per-application' | 'one';
    stores: 'memory' | 'disk';
    stateDir: string;
    guarantee: 'exactly-once' | 'at-least-once';
    applicationPrefix: string;
    commitIntervalMs: number;
    /** 0 = never (consumed repartition records stay). */
    repartitionPurgeIntervalMs: number;
    maxFutureMs: number;
    maxTransactionRecords: number;
    maxTransactionBytes: number;
    quietAfterMs: number;
    finishWhenQuietMs: number;
    readingHistoryMs: number;
    finishAfterMs: number;
    shipmentRetentionMs: number;
  };
  stack: { startTimeoutMs: number };
}

export function defaultOf(name: ConfigVariable, env: Env = {}): string {
  const d = CONFIG_VARIABLES[name].default;
  return typeof d === 'function' ? d(env) : d;
}

/** Reads, validates and freezes the configuration. Throws ConfigError listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: ConfigProblem[] = [];
  const values: Partial<Record<ConfigVariable, unknown>> = {};
  for (const name of Object.keys(CONFIG_VARIABLES) as ConfigVariable[]) {
    const spec = CONFIG_VARIABLES[name] as VariableSpec<unknown>;
    const raw = env[name];
    const source = raw === undefined || raw === '' ? defaultOf(name, env) : raw;
    try {
      values[name] = spec.parse(source);
    } catch (err) {
      problems.push({
        variable: name,
        value: raw,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const v = values as Parsed;
  return deepFreeze<Config>({
    logLevel: v.CONTINUUM_LOG_LEVEL,
    stateDir: nodePath.resolve(v.CONTINUUM_STATE_DIR),
    cacheDir: nodePath.resolve(v.CONTINUUM_CACHE_DIR),
    kafka: {
      brokers: v.CONTINUUM_KAFKA_BROKERS,
      nodes: Number(v.CONTINUUM_KAFKA_NODES) as KafkaClusterSize,
      controllerPort: v.CONTINUUM_KAFKA_CONTROLLER_PORT,
      clientId: v.CONTINUUM_KAFKA_CLIENT_ID,
    },
    schemaRegistry: { url: v.CONTINUUM_SCHEMA_REGISTRY_URL },
    // The default URL is the native stack's, whose password is generated into the state folder.
    postgres: {
      url:
        env.CONTINUUM_POSTGRES_URL === undefined || env.CONTINUUM_POSTGRES_URL === ''
          ? withPassword(
              v.CONTINUUM_POSTGRES_URL,
              nativePostgresPassword(nodePath.resolve(v.CONTINUUM_STATE_DIR)),
            )
          : v.CONTINUUM_POSTGRES_URL,
    },
    redis: { url: v.CONTINUUM_REDIS_URL },
    mongodb: { url: v.CONTINUUM_MONGODB_URL },
    mlflow: { url: v.CONTINUUM_MLFLOW_URL },
    ml: {
      modelName: v.CONTINUUM_ML_MODEL_NAME,
      groupId: v.CONTINUUM_ML_GROUP_ID,
      window: {
        kind: v.CONTINUUM_ML_WINDOW,
        spanMs: v.CONTINUUM_ML_WINDOW_SPAN_MS,
        maxDeliveries: v.CONTINUUM_ML_WINDOW_MAX_DELIVERIES,
        slideMs: v.CONTINUUM_ML_WINDOW_SLIDE_MS,
        slideDeliveries: v.CONTINUUM_ML_WINDOW_SLIDE_DELIVERIES,
      },
      minDeliveries: v.CONTINUUM_ML_MIN_DELIVERIES,
      holdoutFraction: v.CONTINUUM_ML_HOLDOUT_FRACTION,
      promotionMargin: v.CONTINUUM_ML_PROMOTION_MARGIN,
      intervalCoverage: v.CONTINUUM_ML_INTERVAL_COVERAGE,
      algorithms: v.CONTINUUM_ML_ALGORITHMS,
      driftCheckpoints: v.CONTINUUM_ML_DRIFT_CHECKPOINTS,
      trainerUrl: v.CONTINUUM_ML_TRAINER_URL,
      mlflowTimeoutMs: v.CONTINUUM_ML_MLFLOW_TIMEOUT_MS,
      mlflowRetryMs: v.CONTINUUM_ML_MLFLOW_RETRY_MS,
    },
    prometheus: { url: v.CONTINUUM_PROMETHEUS_URL },
    topics: {
      partitions: v.CONTINUUM_TOPIC_PARTITIONS,
      shipmentsCdc: v.CONTINUUM_TOPIC_SHIPMENTS_CDC,
      telemetryRaw: v.CONTINUUM_TOPIC_TELEMETRY_RAW,
      telemetryClean: v.CONTINUUM_TOPIC_TELEMETRY_CLEAN,
      shipmentState: v.CONTINUUM_TOPIC_SHIPMENT_STATE,
      deliveriesCompleted: v.CONTINUUM_TOPIC_DELIVERIES_COMPLETED,
      etaModels: v.CONTINUUM_TOPIC_ETA_MODELS,
    },
    api: {
      host: v.CONTINUUM_API_HOST,
      port: v.CONTINUUM_API_PORT,
      keys: v.CONTINUUM_API_KEYS,
      anonymousReads: v.CONTINUUM_API_ANONYMOUS_READS,
      rateLimitPerMinute: v.CONTINUUM_API_RATE_LIMIT_PER_MINUTE,
      bodyLimitBytes: v.CONTINUUM_API_BODY_LIMIT_BYTES,
    },
    metricsPorts: {
      api: v.CONTINUUM_API_PORT,
      streams: v.CONTINUUM_STREAMS_METRICS_PORT,
      connect: v.CONTINUUM_CONNECT_METRICS_PORT,
      ml: v.CONTINUUM_ML_METRICS_PORT,
      seed: v.CONTINUUM_SEED_METRICS_PORT,
      lag: v.CONTINUUM_LAG_METRICS_PORT,
    },
    exporters: {
      postgres: v.CONTINUUM_POSTGRES_EXPORTER_PORT,
      redis: v.CONTINUUM_REDIS_EXPORTER_PORT,
      kafka: v.CONTINUUM_KAFKA_METRICS_PORT,
    },
    cdc: {
      schema: v.CONTINUUM_CDC_SCHEMA,
      table: v.CONTINUUM_CDC_TABLE,
      publication: v.CONTINUUM_CDC_PUBLICATION,
      slot: v.CONTINUUM_CDC_SLOT,
      heartbeatIntervalMs: v.CONTINUUM_CDC_HEARTBEAT_MS,
      snapshotMode: v.CONTINUUM_CDC_SNAPSHOT_MODE,
      spillAfterChanges: v.CONTINUUM_CDC_SPILL_AFTER_CHANGES,
      spillDirectory: v.CONTINUUM_CDC_SPILL_DIR,
    },
    archive: {
      flushRecords: v.CONTINUUM_ARCHIVE_FLUSH_RECORDS,
      flushBytes: v.CONTINUUM_ARCHIVE_FLUSH_BYTES,
    },
    streams: {
      client: v.CONTINUUM_STREAMS_CLIENT,
      threads: v.CONTINUUM_STREAMS_THREADS,
      stores: v.CONTINUUM_STREAMS_STORES,
      stateDir: nodePath.resolve(v.CONTINUUM_STREAMS_STATE_DIR),
      guarantee: v.CONTINUUM_STREAMS_GUARANTEE,
      applicationPrefix: v.CONTINUUM_STREAMS_APPLICATION_PREFIX,
      commitIntervalMs: v.CONTINUUM_STREAMS_COMMIT_INTERVAL_MS,
      repartitionPurgeIntervalMs: v.CONTINUUM_STREAMS_REPARTITION_PURGE_INTERVAL_MS,
      maxFutureMs: v.CONTINUUM_STREAMS_MAX_FUTURE_MS,
      maxTransactionRecords: v.CONTINUUM_STREAMS_MAX_TRANSACTION_RECORDS,
      maxTransactionBytes: v.CONTINUUM_STREAMS_MAX_TRANSACTION_BYTES,
      quietAfterMs: v.CONTINUUM_STREAMS_QUIET_AFTER_MS,
      finishWhenQuietMs: v.CONTINUUM_STREAMS_FINISH_WHEN_QUIET_MS,
      readingHistoryMs: v.CONTINUUM_STREAMS_READING_HISTORY_MS,
      finishAfterMs: v.CONTINUUM_STREAMS_FINISH_AFTER_MS,
      shipmentRetentionMs: v.CONTINUUM_STREAMS_SHIPMENT_RETENTION_MS,
    },
    stack: { startTimeoutMs: v.CONTINUUM_STACK_START_TIMEOUT_MS },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** host and port of a URL or host:port, with the scheme's default port when none is written. */
export function hostPortOf(endpoint: string, defaultPort: number): { host: string; port: number } {
  const url = endpoint.includes('://') ? new URL(endpoint) : new URL(`tcp://${endpoint}`);
  return { host: url.hostname, port: url.port ? Number(url.port) : defaultPort };
}
