// `continuum api` in the test process, on the real stack, under test-only names (topics, Redis
// namespace, PostgreSQL schema, MongoDB collection), on a free loopback port; with helpers to
// put states and telemetry where the sinks would, and to remove everything afterwards.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { Config } from '../../../core/config.ts';
import { apiKeyEntryText, parseApiKeys, type ApiScope } from '../../../core/api-keys.ts';
import type { Logger } from '../../../core/logger.ts';
import { startApiServer, type RunningApi } from '../../../api/server.ts';
import { ShipmentStatePostgresSink } from '../../../connectors/sinks/postgres/shipment-state-postgres-sink.ts';
import { TelemetryHistorySink } from '../../../connectors/sinks/mongodb/telemetry-history-sink.ts';
import {
  shipmentStateKeys,
  type ShipmentStateKeys,
} from '../../../connectors/sinks/redis/shipment-state-hash.ts';
import { ShipmentStateRedisSink } from '../../../connectors/sinks/redis/shipment-state-redis-sink.ts';
import { createSchemaRegistry, registerValueSchema } from '../../../schemas/event-schemas.ts';
import type { UnifiedShipmentState, VehicleTelemetry } from '../../../schemas/types.ts';
import { createTestTopic, deleteTestTopics } from '../kafka.ts';
import { uniqueName } from '../names.ts';
import { deleteTestSubjects } from '../registry.ts';

export const TEST_KEYS = {
  ingest: `ck_test_ingest_${'x'.repeat(32)}`,
  replay: `ck_test_replay_${'y'.repeat(32)}`,
} as const;

const SCOPES: Record<keyof typeof TEST_KEYS, ApiScope[]> = {
  ingest: ['read', 'ingest'],
  replay: ['read', 'replay'],
};

export class ApiUnderTest {
  readonly api: RunningApi;
  readonly stateTopic: string;
  readonly telemetryTopic: string;
  readonly keys: ShipmentStateKeys;
  readonly schema: string;
  readonly collection: string;
  private readonly kafka: Kafka;
  private readonly config: Config;
  private readonly redis: Redis;
  private readonly pool: pg.Pool;
  private readonly mongo: MongoClient;
  private readonly registry: SchemaRegistry;
  private stateSchemaId = 0;

  private constructor(args: {
    api: RunningApi;
    config: Config;
    kafka: Kafka;
    stateTopic: string;
    telemetryTopic: string;
    schema: string;
    collection: string;
    keys: ShipmentStateKeys;
  }) {
    this.api = args.api;
    this.config = args.config;
    this.kafka = args.kafka;
    this.stateTopic = args.stateTopic;
    this.telemetryTopic = args.telemetryTopic;
    this.schema = args.schema;
    this.collection = args.collection;
    this.keys = args.keys;
    this.redis = new Redis(args.config.redis.url);
    this.pool = new pg.Pool({ connectionString: args.config.postgres.url, max: 2 });
    this.mongo = new MongoClient(args.config.mongodb.url);
    this.registry = createSchemaRegistry(args.config);
  }

  get url(): string {
    return this.api.url;
  }

  static async start(config: Config, kafka: Kafka, log: Logger): Promise<ApiUnderTest> {
    const stateTopic = await createTestTopic(kafka, { partitions: 3 });
    const telemetryTopic = await createTestTopic(kafka, { partitions: 3 });
    const schema = uniqueName('test_api', '_');
    const collection = uniqueName('test_api_telemetry', '_');
    const keys = shipmentStateKeys(`${uniqueName('test', ':')}:`);
    const keyEntries = Object.entries(TEST_KEYS)
      .map(([name, key]) => apiKeyEntryText(name, SCOPES[name as keyof typeof TEST_KEYS], key))
      .join(';');
    const api = await startApiServer(
      { ...config, api: { ...config.api, keys: parseApiKeys(keyEntries) } },
      log,
      {
        host: '127.0.0.1',
        port: 0,
        deps: {
          stateTopic,
          telemetryTopic,
          redisKeyNamespace: keys.hashPrefix.slice(0, -'shipment:'.length),
          postgresSchema: schema,
          telemetryCollection: collection,
          groupPrefix: uniqueName('test-api'),
          lagRefreshMs: 500,
        },
      },
    );
    const under = new ApiUnderTest({
      api,
      config,
      kafka,
      stateTopic,
      telemetryTopic,
      schema,
      collection,
      keys,
    });
    await under.mongo.connect();
    under.stateSchemaId = await registerValueSchema(
      under.registry,
      stateTopic,
      'UnifiedShipmentState',
    );
    return under;
  }

  /** Produces states to the test shipment.state and applies them as the sinks would. */
  async putStates(states: readonly UnifiedShipmentState[], apply = true): Promise<void> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({
        topic: this.stateTopic,
        acks: -1,
        messages: await Promise.all(
          states.map(async (s) => ({
            key: s.shipmentId,
            value: await this.registry.encode(this.stateSchemaId, s),
            timestamp: String(s.stateUpdatedAt),
          })),
        ),
      });
    } finally {
      await producer.disconnect();
    }
    if (!apply) return;
    const sinks = [
      new ShipmentStateRedisSink(this.redis, { keys: this.keys }),
      new ShipmentStatePostgresSink(this.pool, { schema: this.schema }),
    ];
    for (const sink of sinks) {
      states.forEach((value, i) =>
        sink.add({
          topic: this.stateTopic,
          partition: 0,
          offset: String(i),
          key: value.shipmentId,
          value,
          timestamp: value.stateUpdatedAt,
        }),
      );
      await sink.flush();
    }
  }

  /**
   * Writes cleaned readings to the history as the MongoDB sink does, as if read from offsets 0…
   * of one partition, flushing every `flushEvery` readings (all at once by default); called again
   * with another `flushEvery`, it is a replay cut at other flush boundaries.
   */
  async putTelemetry(
    readings: readonly VehicleTelemetry[],
    { flushEvery = readings.length }: { flushEvery?: number } = {},
  ): Promise<void> {
    const sink = new TelemetryHistorySink(this.mongo.db(), this.collection);
    await sink.ensureIndexes();
    for (const [i, value] of readings.entries()) {
      sink.add({
        topic: 'telemetry.clean',
        partition: 0,
        offset: String(i),
        key: value.vehicleId,
        value,
        timestamp: value.eventTime,
      });
      if ((i + 1) % flushEvery === 0) await sink.flush();
    }
    await sink.flush();
  }

  async decode(bytes: Buffer): Promise<unknown> {
    return this.registry.decode(bytes);
  }

  async stop(): Promise<void> {
    await this.api.close();
    const found = await this.redis.keys(`${this.keys.hashPrefix.slice(0, -'shipment:'.length)}*`);
    if (found.length > 0) await this.redis.del(...found);
    await this.redis.quit();
    await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await this.pool.end();
    await this.mongo
      .db()
      .collection(this.collection)
      .drop()
      .catch(() => undefined);
    await this.mongo.close();
    await deleteTestTopics(this.kafka, [this.stateTopic, this.telemetryTopic]);
    await deleteTestSubjects(this.config, [this.stateTopic, this.telemetryTopic]);
  }
}
