// The API's ports on the real platform: Redis, PostgreSQL, MongoDB, the telemetry SDK, Kafka
// (state feed, consumer lag, replays). The one place that opens those clients for the API, used
// by `continuum api`, the integration tests and the benchmark (with their own names).
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { createKafkaClient } from '../core/kafka-client.ts';
import type { Logger } from '../core/logger.ts';
import { shipmentStatePostgresDefaults } from '../connectors/sinks/postgres/run-shipment-state-postgres.ts';
import { ShipmentStatePostgresSink } from '../connectors/sinks/postgres/shipment-state-postgres-sink.ts';
import { TELEMETRY_COLLECTION } from '../connectors/sinks/mongodb/telemetry-history-sink.ts';
import { shipmentStateKeys } from '../connectors/sinks/redis/shipment-state-hash.ts';
import { shipmentStateRedisDefaults } from '../connectors/sinks/redis/run-shipment-state-redis.ts';
import { TelemetryProducer } from '../connectors/telemetry-sdk/telemetry-producer.ts';
import { createSchemaRegistry } from '../schemas/event-schemas.ts';
import type { UnifiedShipmentState } from '../schemas/types.ts';
import { ReplayJobs } from '../replay/replay-jobs.ts';
import { replayRunners } from '../replay/replay-runners.ts';
import { dependencyProbes } from './adapters/dependency-probes.ts';
import { mlEtaModels } from './adapters/ml-eta-models.ts';
import { KAFKA_STATE_FEED_DEFAULTS, KafkaStateFeed } from './adapters/kafka-state-feed.ts';
import { mongoTelemetryHistory } from './adapters/mongo-telemetry-history.ts';
import { postgresShipmentStates } from './adapters/postgres-shipment-states.ts';
import { prometheusMetricsHistory } from './adapters/prometheus-metrics-history.ts';
import { redisShipmentStates } from './adapters/redis-shipment-states.ts';
import { sdkTelemetryIngest } from './adapters/sdk-telemetry-ingest.ts';
import { StateLagMonitor } from './adapters/state-lag-monitor.ts';
import { FetchPartitionTailReader } from '../core/partition-tails.ts';
import type { ApiDeps } from './ports.ts';

export interface PlatformDepsOptions {
  /** Where the state feed and view rebuilds read, and where ingested telemetry goes. */
  stateTopic: string;
  telemetryTopic: string;
  /** Key namespace of the Redis state ('' = the sink's default keys). */
  redisKeyNamespace: string;
  /** PostgreSQL schema of the shipment_state table. */
  postgresSchema: string;
  telemetryCollection: string;
  /** Consumer groups whose lag a lookup reports, with what each does. */
  lagGroups: ReadonlyMap<string, string>;
  lagRefreshMs: number;
  /** Prefix of the API's own consumer groups (state feed, replays). */
  groupPrefix: string;
  metricsRegistry: Registry;
}

/** The platform's own names, from the configuration and the sinks' defaults. */
export function platformDepsOptions(
  config: Config,
  metricsRegistry: Registry,
): PlatformDepsOptions {
  const prefix = config.streams.applicationPrefix;
  return {
    stateTopic: config.topics.shipmentState,
    telemetryTopic: config.topics.telemetryRaw,
    redisKeyNamespace: shipmentStateRedisDefaults(config).keyNamespace,
    postgresSchema: shipmentStatePostgresDefaults(config).schema,
    telemetryCollection: TELEMETRY_COLLECTION,
    lagGroups: new Map([
      [`${prefix}-telemetry-clean`, 'stream application: telemetry cleaning'],
      [`${prefix}-shipment-state`, 'stream application: shipment state join'],
      [shipmentStateRedisDefaults(config).groupId, 'sink: Redis'],
      [shipmentStatePostgresDefaults(config).groupId, 'sink: PostgreSQL'],
    ]),
    lagRefreshMs: 5_000,
    groupPrefix: `${prefix}-api`,
    metricsRegistry,
  };
}

export interface PlatformDeps {
  deps: ApiDeps;
  /** Starts the background parts (state feed, lag measurement). */
  start(): Promise<void>;
  /** Ends SSE streams (before the HTTP server closes: they would hold it open). */
  stopStreams(): Promise<void>;
  /** Closes Kafka, Redis, PostgreSQL and MongoDB clients, flushing accepted telemetry first. */
  close(): Promise<void>;
}

export async function createPlatformDeps(
  config: Config,
  log: Logger,
  options: PlatformDepsOptions,
): Promise<PlatformDeps> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const kafka = createKafkaClient(config, 'api', log);
    const admin = kafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
    await redis.connect();
    closers.push(() => redis.quit());
    const pool = new pg.Pool({ connectionString: config.postgres.url, max: 8 });
    pool.on('error', (err) => log.warn({ err: err.message }, 'idle postgres connection failed'));
    closers.push(() => pool.end());
    // The table the lists read exists even before the PostgreSQL sink first ran.
    await new ShipmentStatePostgresSink(pool, { schema: options.postgresSchema }).ensureTable();
    const mongo = new MongoClient(config.mongodb.url, { serverSelectionTimeoutMS: 5_000 });
    await mongo.connect();
    closers.push(() => mongo.close());
    const registry = createSchemaRegistry(config);
    const decode = async (bytes: Buffer): Promise<UnifiedShipmentState> =>
      (await registry.decode(bytes)) as UnifiedShipmentState;
    const producer = await TelemetryProducer.create({
      config,
      log,
      kafka,
      registry,
      options: { topic: options.telemetryTopic },
      metricsRegistry: options.metricsRegistry,
    });
    closers.push(() => producer.close());
    const feed = new KafkaStateFeed({
      kafka,
      admin,
      config,
      decode,
      log,
      options: {
        ...KAFKA_STATE_FEED_DEFAULTS,
        topic: options.stateTopic,
        groupPrefix: `${options.groupPrefix}-feed`,
      },
    });
    closers.push(() => feed.stop());
    const tails = new FetchPartitionTailReader(config, 'api-lag');
    closers.push(() => tails.close());
    const lag = new StateLagMonitor(
      admin,
      { groups: options.lagGroups, refreshMs: options.lagRefreshMs, tails },
      log,
    );
    closers.push(() => Promise.resolve(lag.stop()));
    const redisKeys = shipmentStateKeys(options.redisKeyNamespace);
    const replays = new ReplayJobs(
      replayRunners(
        { kafka, admin, config, decode, groupPrefix: `${options.groupPrefix}-replay` },
        {
          stateTopic: options.stateTopic,
          redis,
          redisKeys,
          pool,
          postgresSchema: options.postgresSchema,
        },
      ),
    );
    closers.push(() => replays.close());
    const deps: ApiDeps = {
      hot: redisShipmentStates(redis, redisKeys),
      durable: postgresShipmentStates(pool, options.postgresSchema),
      telemetryHistory: mongoTelemetryHistory(mongo.db(), options.telemetryCollection),
      ingest: sdkTelemetryIngest(producer),
      lag,
      feed,
      replays,
      metricsHistory: prometheusMetricsHistory({ url: config.prometheus.url, timeoutMs: 5_000 }),
      probes: dependencyProbes({
        admin,
        registryUrl: config.schemaRegistry.url,
        redis,
        pool,
        mongo: mongo.db(),
      }),
      ml: mlEtaModels({
        trainerUrl: config.ml.trainerUrl,
        mlflowUrl: config.mlflow.url,
        modelName: config.ml.modelName,
        timeoutMs: 5_000,
      }),
    };
    return {
      deps,
      start: async () => {
        await feed.start();
        lag.start();
      },
      stopStreams: () => feed.stop(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
