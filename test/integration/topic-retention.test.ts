// History that stays (issue 9): retention of the platform's topics counts from when a record was
// written, so a backfill of events dated last month survives the broker's retention check, while
// the same records in a topic that keeps their event time as CreateTime are deleted by it. And
// the platform's topics get that config at start even when they were made without it.
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { createTopicsWithLeaders } from '../../core/create-topics.ts';
import { ensurePlatformTopics } from '../../core/ensure-platform-topics.ts';
import { createLogger } from '../../core/logger.ts';
import { platformTopics, WRITE_TIME_TIMESTAMPS, type TopicConfigEntry } from '../../core/topics.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createKafka, createTestTopic, deleteTestTopics, readToEnd } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const { ConfigResourceTypes, ConfigSource } = kafkajs;
const config = loadConfig(process.env);
const DAY_MS = 24 * 3_600_000;
const BACKFILL = 200;
/** Segments roll on time after this, so the backfill sits in a closed segment retention may delete. */
const SEGMENT_MS = 1_000;

/** The broker's own `log.retention.check.interval.ms`: how long until retention has surely run. */
async function retentionCheckIntervalMs(admin: Admin): Promise<number> {
  const { brokers } = await admin.describeCluster();
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      {
        type: ConfigResourceTypes.BROKER,
        name: String(brokers[0]?.nodeId ?? 1),
        configNames: ['log.retention.check.interval.ms'],
      },
    ],
  });
  const value = Number(resources[0]?.configEntries[0]?.configValue);
  if (!(value > 0)) throw new Error(`broker describes no log.retention.check.interval.ms`);
  return value;
}

async function topicConfigs(
  admin: Admin,
  topic: string,
): Promise<Record<string, { value: string; own: boolean }>> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
  });
  return Object.fromEntries(
    (resources[0]?.configEntries ?? []).map((e) => [
      e.configName,
      { value: e.configValue, own: e.configSource === ConfigSource.TOPIC_CONFIG },
    ]),
  );
}

async function lowOffset(admin: Admin, topic: string): Promise<number> {
  const [partition] = await admin.fetchTopicOffsets(topic);
  return Number(partition?.low ?? -1);
}

describe('a backfill of events dated 30 days ago', () => {
  let kafka: Kafka;
  let admin: Admin;
  const topics: string[] = [];

  beforeAll(async () => {
    kafka = createKafka(config, 'topic-retention');
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await deleteTestTopics(admin, topics);
    await admin.disconnect();
  });

  it('is whole in a topic with the platform’s configs after the broker’s retention check deleted it from a CreateTime topic', async () => {
    const checkIntervalMs = await retentionCheckIntervalMs(admin);
    const telemetryRaw = platformTopics(config).find((t) => t.topic === config.topics.telemetryRaw);
    expect(telemetryRaw?.configEntries).toContainEqual(WRITE_TIME_TIMESTAMPS);
    const withSegmentMs = (entries: readonly TopicConfigEntry[]): TopicConfigEntry[] => [
      ...entries.filter((e) => e.name !== 'segment.ms'),
      { name: 'segment.ms', value: String(SEGMENT_MS) },
    ];
    const platformConfigs = withSegmentMs(telemetryRaw?.configEntries ?? []);
    // The control differs in one config only: its records keep their (event) timestamps.
    const controlConfigs = platformConfigs.map((e) =>
      e.name === WRITE_TIME_TIMESTAMPS.name ? { name: e.name, value: 'CreateTime' } : e,
    );
    const platform = await createTestTopic(admin, { configEntries: platformConfigs });
    topics.push(platform);
    const control = await createTestTopic(admin, { configEntries: controlConfigs });
    topics.push(control);

    const writtenFrom = Date.now();
    const monthAgo = writtenFrom - 30 * DAY_MS;
    const backfill = Array.from({ length: BACKFILL }, (_, i) => ({
      key: `vehicle-${i % 7}`,
      value: JSON.stringify({ seq: i, eventTime: monthAgo + i * 1_000 }),
      timestamp: String(monthAgo + i * 1_000),
    }));
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    try {
      for (const topic of [platform, control])
        await producer.send({ topic, acks: -1, messages: backfill });
      // The platform topic's first segment is as old as its first append; once SEGMENT_MS
      // has passed, the next append rolls it. (The control's rolls at once: 30 days > 1 s.)
      const [first] = await readToEnd(kafka, platform);
      const appendedAt = Number(first?.timestamp);
      expect(appendedAt).toBeGreaterThanOrEqual(writtenFrom - 1_000);
      await waitFor(() => Date.now() > appendedAt + SEGMENT_MS, {
        timeoutMs: 10_000,
        intervalMs: 100,
        description: 'the first segment of the platform topic to be due to roll',
      });
      const now = { key: 'now', value: JSON.stringify({ seq: BACKFILL, eventTime: Date.now() }) };
      for (const topic of [platform, control])
        await producer.send({ topic, acks: -1, messages: [now] });
    } finally {
      await producer.disconnect();
    }

    // The control's old segment goes at the broker's next retention check (at most one interval
    // away): that proves the check ran over both topics after their segments rolled.
    const timeoutMs = checkIntervalMs + 60_000;
    await waitFor(async () => (await lowOffset(admin, control)) === BACKFILL, {
      timeoutMs,
      intervalMs: 500,
      maxIntervalMs: 2_000,
      description: `the retention check (every ${checkIntervalMs} ms) to delete the control's 30-day-old records`,
    });

    const kept = await readToEnd(kafka, platform);
    expect(kept.map((m) => Number(m.offset))).toEqual(
      Array.from({ length: BACKFILL + 1 }, (_, i) => i),
    );
    // The event time stays in the value, where the stream processors read it.
    expect(kept.slice(0, BACKFILL).map((m) => m.value?.toString())).toEqual(
      backfill.map((m) => m.value),
    );
    for (const m of kept) expect(Number(m.timestamp)).toBeGreaterThanOrEqual(writtenFrom - 1_000);
    expect(await lowOffset(admin, platform)).toBe(0);
    // Bounded by the broker's interval above; this only has to be longer (Kafka's default: 5 min).
  }, 900_000);
});

describe('ensurePlatformTopics on the broker', () => {
  let kafka: Kafka;
  let admin: Admin;
  const names = {
    CONTINUUM_TOPIC_SHIPMENTS_CDC: uniqueName('test', '.'),
    CONTINUUM_TOPIC_TELEMETRY_RAW: uniqueName('test', '.'),
    CONTINUUM_TOPIC_TELEMETRY_CLEAN: uniqueName('test', '.'),
    CONTINUUM_TOPIC_SHIPMENT_STATE: uniqueName('test', '.'),
    CONTINUUM_TOPIC_DELIVERIES_COMPLETED: uniqueName('test', '.'),
    CONTINUUM_TOPIC_ETA_MODELS: uniqueName('test', '.'),
  };
  const own = loadConfig({ ...process.env, ...names, CONTINUUM_TOPIC_PARTITIONS: '1' });
  const all = platformTopics(own).map((t) => t.topic);

  beforeAll(async () => {
    kafka = createKafka(config, 'platform-topics');
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    const existing = new Set(await admin.listTopics());
    await deleteTestTopics(
      admin,
      all.filter((t) => existing.has(t)),
    );
    await admin.disconnect();
  });

  it('creates what is missing and gives a topic made before LogAppendTime the write-time clock, keeping its own configs', async () => {
    const raw = names.CONTINUUM_TOPIC_TELEMETRY_RAW;
    // As `stack up` made telemetry.raw before this change, plus a config an operator added.
    await createTopicsWithLeaders(admin, [
      {
        topic: raw,
        numPartitions: 1,
        configEntries: [
          { name: 'retention.ms', value: String(7 * DAY_MS) },
          { name: 'segment.bytes', value: '104857600' },
        ],
      },
    ]);
    expect((await topicConfigs(admin, raw))['message.timestamp.type']?.value).toBe('CreateTime');

    const report = await ensurePlatformTopics(admin, own, createLogger('silent'));
    expect(report.created.sort()).toEqual(all.filter((t) => t !== raw).sort());
    expect(report.aligned).toEqual([
      {
        topic: raw,
        had: { 'message.timestamp.type': 'CreateTime' },
        set: { 'message.timestamp.type': 'LogAppendTime' },
      },
    ]);

    const aligned = await topicConfigs(admin, raw);
    expect({
      timestampType: aligned['message.timestamp.type'],
      retention: aligned['retention.ms'],
      segmentBytes: aligned['segment.bytes'],
    }).toEqual({
      timestampType: { value: 'LogAppendTime', own: true },
      retention: { value: String(7 * DAY_MS), own: true },
      segmentBytes: { value: '104857600', own: true },
    });
    const state = await topicConfigs(admin, names.CONTINUUM_TOPIC_SHIPMENT_STATE);
    expect([state['cleanup.policy']?.value, state['message.timestamp.type']?.value]).toEqual([
      'compact',
      'LogAppendTime',
    ]);

    // A record written now with last month's event time is stamped with when it was written.
    const before = Date.now();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: raw,
        acks: -1,
        messages: [{ key: 'k', value: 'v', timestamp: String(before - 30 * DAY_MS) }],
      });
    } finally {
      await producer.disconnect();
    }
    const [written] = await readToEnd(kafka, raw);
    expect(Number(written?.timestamp)).toBeGreaterThanOrEqual(before - 1_000);

    // A second start has nothing left to do.
    expect(await ensurePlatformTopics(admin, own, createLogger('silent'))).toEqual({
      created: [],
      aligned: [],
    });
  }, 120_000);
});
