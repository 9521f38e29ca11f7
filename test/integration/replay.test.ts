// The replay library on the real broker, registry, Redis and PostgreSQL: an offset reset that
// Kafka's own consumer-group tool plans and reads back identically, a view rebuilt from a time
// range of shipment.state (equal to the topic's newest record per shipment, and to the view
// before it was lost), and dead letters re-driven by reason, each at most once.
import type { Admin, Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../core/config.ts';
import { deadLetter, DLQ_HEADERS } from '../../core/dead-letter.ts';
import { alterGroupOffsets } from '../../core/group-offsets.ts';
import { createTopicsWithLeaders } from '../../core/create-topics.ts';
import { dlqTopic } from '../../core/topics.ts';
import { waitFor } from '../../core/wait-for.ts';
import { ShipmentStatePostgresSink } from '../../connectors/sinks/postgres/shipment-state-postgres-sink.ts';
import { rowToShipmentState } from '../../connectors/sinks/postgres/shipment-state-sql.ts';
import { shipmentStateKeys } from '../../connectors/sinks/redis/shipment-state-hash.ts';
import { getShipmentState } from '../../connectors/sinks/redis/shipment-state-reader.ts';
import { ShipmentStateRedisSink } from '../../connectors/sinks/redis/shipment-state-redis-sink.ts';
import { createSchemaRegistry, registerValueSchema } from '../../schemas/event-schemas.ts';
import type { UnifiedShipmentState } from '../../schemas/types.ts';
import { shipmentState } from '../../api/fixtures.ts';
import {
  redriveDeadLetters,
  redriveLedgerTopic,
  REDRIVE_HEADER,
} from '../../replay/dead-letter-redrive.ts';
import { GroupActiveError, resetGroupOffsets } from '../../replay/offset-reset.ts';
import { rebuildView } from '../../replay/rebuild-view.ts';
import type { ReplayProgress } from '../../replay/replay-progress.ts';
import { createKafka, createTestTopic, deleteTestTopics, readToEnd } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { deleteTestSubjects } from '../support/registry.ts';
import { consumerGroupTool } from '../support/api/kafka-tools.ts';

const config = loadConfig(process.env);
const ERA_A = Date.UTC(2026, 10, 1);
const ERA_B = Date.UTC(2026, 10, 2);
const SHIPMENTS = 24;

describe('replay library', () => {
  let kafka: Kafka;
  let admin: Admin;
  let stateTopic: string;
  const topics: string[] = [];
  const registry = createSchemaRegistry(config);
  let schemaId: number;
  /** Every record produced, in the order of its partition's offsets. */
  const produced: UnifiedShipmentState[] = [];

  beforeAll(async () => {
    kafka = createKafka(config, 'replay');
    admin = kafka.admin();
    await admin.connect();
    stateTopic = await createTestTopic(admin, {
      partitions: 3,
      configEntries: [{ name: 'retention.ms', value: '-1' }],
    });
    topics.push(stateTopic);
    schemaId = await registerValueSchema(registry, stateTopic, 'UnifiedShipmentState');
    // Era A: every shipment's first states; era B: newer states of every third shipment.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const send = async (state: UnifiedShipmentState, timestamp: number): Promise<void> => {
      produced.push(state);
      await producer.send({
        topic: stateTopic,
        acks: -1,
        messages: [
          {
            key: state.shipmentId,
            value: await registry.encode(schemaId, state),
            timestamp: String(timestamp),
          },
        ],
      });
    };
    for (let i = 0; i < SHIPMENTS; i++)
      for (let v = 1; v <= 2; v++)
        await send(
          shipmentState({
            shipmentId: `SHP-${i}`,
            version: v,
            status: 'IN_TRANSIT',
            lat: 52 + i / 100,
            lon: 13 + v / 100,
            stateUpdatedAt: ERA_A + i * 1000 + v,
          }),
          ERA_A + i * 1000 + v,
        );
    for (let i = 0; i < SHIPMENTS; i += 3)
      await send(
        shipmentState({
          shipmentId: `SHP-${i}`,
          version: 3,
          status: i % 2 === 0 ? 'DELIVERED' : 'OUT_FOR_DELIVERY',
          stateUpdatedAt: ERA_B + i,
        }),
        ERA_B + i,
      );
    await producer.disconnect();
  });

  afterAll(async () => {
    const ledgers = (await admin.listTopics()).filter((t) =>
      topics.some((x) => t === redriveLedgerTopic(dlqTopic(x))),
    );
    await deleteTestTopics(admin, [...topics, ...ledgers]);
    await deleteTestSubjects(config, [stateTopic]);
    await admin.disconnect();
  });

  describe('offset reset', () => {
    const group = uniqueName('test-replay-group');

    afterAll(async () => {
      await admin.deleteGroups([group]).catch(() => undefined);
    });

    it('plans and commits what kafka-consumer-groups --reset-offsets --to-datetime does', async () => {
      const ends = (await admin.fetchTopicOffsets(stateTopic)).sort(
        (a, b) => a.partition - b.partition,
      );
      await alterGroupOffsets(
        config,
        group,
        ends.map((e) => ({ topic: stateTopic, partition: e.partition, offset: Number(e.high) })),
      );
      const request = {
        group,
        topics: [{ topic: stateTopic }],
        to: { kind: 'datetime' as const, timestamp: ERA_B },
      };
      const dry = await resetGroupOffsets(admin, config, request, { execute: false });
      expect(dry.executed).toBe(false);
      expect(dry.rows.map((r) => r.current)).toEqual(ends.map((e) => Number(e.high)));
      // Some partition moves back (era B records exist), none beyond its end.
      expect(dry.rows.some((r) => r.current !== null && r.new < r.current)).toBe(true);
      const kafkaPlan = await consumerGroupTool(
        config,
        [
          '--reset-offsets',
          '--group',
          group,
          '--topic',
          stateTopic,
          '--to-datetime',
          new Date(ERA_B).toISOString().replace('Z', '+00:00'),
          '--dry-run',
        ],
        'NEW-OFFSET',
      );
      expect(kafkaPlan.map((r) => r.value)).toEqual(dry.rows.map((r) => r.new));

      const done = await resetGroupOffsets(admin, config, request, { execute: true });
      expect(done.executed).toBe(true);
      const described = await consumerGroupTool(
        config,
        ['--describe', '--group', group],
        'CURRENT-OFFSET',
      );
      expect(described).toEqual(
        dry.rows.map((r) => ({ topic: stateTopic, partition: r.partition, value: r.new })),
      );
    });

    it('refuses while the group has a member', async () => {
      const member = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
      await member.connect();
      await member.subscribe({ topics: [stateTopic] });
      let joined = false;
      member.on(member.events.GROUP_JOIN, () => (joined = true));
      await member.run({ eachMessage: () => Promise.resolve() });
      try {
        await waitFor(() => joined, { timeoutMs: 30_000, description: 'the member to join' });
        await expect(
          resetGroupOffsets(
            admin,
            config,
            { group, topics: [{ topic: stateTopic }], to: { kind: 'earliest' } },
            { execute: false },
          ),
        ).rejects.toThrow(GroupActiveError);
      } finally {
        await member.disconnect();
      }
    });
  });

  describe('view rebuild', () => {
    const keys = shipmentStateKeys(`${uniqueName('test', ':')}:`);
    const schema = uniqueName('test_replay', '_');
    let redis: Redis;
    let pool: pg.Pool;

    beforeAll(() => {
      redis = new Redis(config.redis.url);
      pool = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
    });

    afterAll(async () => {
      const found = await redis.keys(`${keys.hashPrefix.split('shipment:')[0]}*`);
      if (found.length > 0) await redis.del(...found);
      await redis.quit();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    });

    const sinks = () => [
      new ShipmentStateRedisSink(redis, { keys }),
      new ShipmentStatePostgresSink(pool, { schema }),
    ];

    async function readView(): Promise<{
      redis: Map<string, UnifiedShipmentState>;
      postgres: Map<string, UnifiedShipmentState>;
    }> {
      const fromRedis = new Map<string, UnifiedShipmentState>();
      for (let i = 0; i < SHIPMENTS; i++) {
        const s = await getShipmentState(redis, `SHP-${i}`, keys);
        if (s) fromRedis.set(s.shipmentId, s);
      }
      const { rows } = await pool.query(`SELECT * FROM "${schema}".shipment_state`);
      const fromPostgres = new Map(
        rows.map((r) => {
          const s = rowToShipmentState(r as Record<string, unknown>);
          return [s.shipmentId, s] as const;
        }),
      );
      return { redis: fromRedis, postgres: fromPostgres };
    }

    /**
     * The hook for other references: the view (both stores) must hold exactly `expected`,
     * field by field. Today it is called with shipment.state's newest record per shipment and
     * with the view before the rebuild; an offline fold's map fits the same call.
     */
    async function assertViewEquals(
      expected: ReadonlyMap<string, UnifiedShipmentState>,
    ): Promise<void> {
      const view = await readView();
      for (const store of [view.redis, view.postgres]) {
        expect([...store.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [id, state] of expected) expect(store.get(id)).toEqual(state);
      }
    }

    /** shipment.state's newest record per shipment, decoded from the topic itself. */
    async function newestPerShipment(): Promise<Map<string, UnifiedShipmentState>> {
      const newest = new Map<string, UnifiedShipmentState>();
      const messages = await readToEnd(kafka, stateTopic);
      messages.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
      for (const m of messages) {
        const state = (await registry.decode(m.value as Buffer)) as UnifiedShipmentState;
        newest.set(state.shipmentId, state);
      }
      return newest;
    }

    it('rebuilds a lost view from a time range, keeping newer states and reporting progress', async () => {
      const deps = {
        kafka,
        admin,
        config,
        topic: stateTopic,
        decode: async (b: Buffer) => (await registry.decode(b)) as UnifiedShipmentState,
        groupPrefix: uniqueName('test-replay-rebuild'),
      };
      await new ShipmentStatePostgresSink(pool, { schema }).ensureTable();
      // The view as the running sinks would have left it.
      const first = await rebuildView({ ...deps, sinks: sinks() }, {});
      expect(first.records).toBe(produced.length);
      const expected = await newestPerShipment();
      expect(expected.size).toBe(SHIPMENTS);
      await assertViewEquals(expected);
      const before = await readView();

      // Replaying the whole log over an up-to-date view changes nothing: versions guard it.
      const again = await rebuildView({ ...deps, sinks: sinks() }, {});
      expect(again.applied).toEqual({ redis: 0, postgres: 0 });

      // Lose the view, then replay only the range holding every shipment's newest record.
      await redis.del(...(await redis.keys(`${keys.hashPrefix}*`)), keys.geoKey);
      await pool.query(`DELETE FROM "${schema}".shipment_state`);
      const from = Math.min(...[...expected.values()].map((s) => s.stateUpdatedAt));
      const progress: ReplayProgress[] = [];
      const rebuilt = await rebuildView(
        { ...deps, sinks: sinks() },
        { from },
        { onProgress: (p) => progress.push(p) },
      );
      expect(rebuilt.records).toBeLessThan(produced.length);
      expect(rebuilt.applied.redis).toBe(SHIPMENTS);
      expect(progress.at(-1)).toMatchObject({ percent: 100, etaSeconds: 0 });
      await assertViewEquals(expected);
      await assertViewEquals(before.postgres);
    });
  });

  describe('dead-letter re-drive', () => {
    let source: string;

    beforeAll(async () => {
      source = await createTestTopic(admin, { partitions: 2 });
      topics.push(source);
      await createTopicsWithLeaders(admin, [{ topic: dlqTopic(source), numPartitions: 2 }]);
      topics.push(dlqTopic(source));
      // Idempotent: a plain producer's retry of a timed-out request on a loaded machine wrote
      // one partition's letters twice once (16 letters, not 10), and the counts below failed.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const letters = Array.from({ length: 10 }, (_, i) => {
        const error = Object.assign(new Error(`rejected ${i}`), {
          code: 'EVENT_REJECTED',
          reason: i % 2 === 0 ? 'late' : 'gps-jump',
        });
        return deadLetter(
          {
            topic: source,
            partition: i % 2,
            offset: String(i),
            timestamp: ERA_A + i,
            key: Buffer.from(`VEH-${i}`),
            value: Buffer.from(`original-bytes-${i}`),
            headers: { 'producer.trace': `t${i}` },
          },
          { error, stage: 'validate', processor: 'clean-telemetry' },
          ERA_B + i,
        );
      });
      await producer.send({ topic: dlqTopic(source), acks: -1, messages: letters });
      await producer.disconnect();
    });

    const deps = () => ({ kafka, admin, config, groupPrefix: uniqueName('test-redrive') });

    it('counts by reason in a dry run, sends the chosen ones once, and never twice', async () => {
      const dry = await redriveDeadLetters(deps(), { topic: source }, { execute: false });
      expect(dry).toMatchObject({
        matched: 10,
        redriven: 0,
        byReason: { late: 5, 'gps-jump': 5 },
        executed: false,
      });
      expect(await readToEnd(kafka, source)).toEqual([]);

      const late = await redriveDeadLetters(
        deps(),
        { topic: source, reasons: ['late'], failedFrom: ERA_B + 2 },
        { execute: true },
      );
      expect(late).toMatchObject({ matched: 4, redriven: 4, alreadyRedriven: 0 });
      const sent = await readToEnd(kafka, source);
      expect(sent.map((m) => m.value?.toString()).sort()).toEqual(
        [2, 4, 6, 8].map((i) => `original-bytes-${i}`),
      );
      for (const m of sent) {
        expect(m.key?.toString()).toMatch(/^VEH-\d$/);
        expect(m.headers?.['producer.trace']?.toString()).toMatch(/^t\d$/);
        expect(m.headers?.[REDRIVE_HEADER]?.toString()).toContain(`${dlqTopic(source)}/`);
        expect(m.headers?.[DLQ_HEADERS.reason]).toBeUndefined();
      }

      const repeat = await redriveDeadLetters(deps(), { topic: source }, { execute: true });
      expect(repeat).toMatchObject({ matched: 10, alreadyRedriven: 4, redriven: 6 });
      const last = await redriveDeadLetters(deps(), { topic: source }, { execute: true });
      expect(last).toMatchObject({ matched: 10, alreadyRedriven: 10, redriven: 0 });
      const all = await readToEnd(kafka, source);
      expect(all).toHaveLength(10);
      expect(new Set(all.map((m) => m.value?.toString())).size).toBe(10);
    });
  });
});
