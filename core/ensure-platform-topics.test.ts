// Platform topics at start: missing ones created, existing ones given what the platform relies on.
import type { Admin, ITopicConfig } from 'kafkajs';
import { loadConfig } from './config.ts';
import { ensurePlatformTopics, topicConfigChanges } from './ensure-platform-topics.ts';
import type { Logger } from './logger.ts';
import { dlqTopic, platformTopics } from './topics.ts';

const TOPIC_CONFIG = 1; // kafkajs ConfigSource.TOPIC_CONFIG
const DEFAULT_CONFIG = 5; // kafkajs ConfigSource.DEFAULT_CONFIG
const BROKER_DEFAULTS: Record<string, string> = {
  'cleanup.policy': 'delete',
  'message.timestamp.type': 'CreateTime',
  'min.compaction.lag.ms': '0',
  'retention.ms': '604800000',
  'segment.bytes': '1073741824',
};

interface AlterRequest {
  name: string;
  configEntries: { name: string; value: string }[];
}

/** A broker of topics with their own configs; AlterConfigs replaces them, as Kafka's does. */
function fakeAdmin(own: Record<string, Record<string, string>>) {
  const created: ITopicConfig[] = [];
  const altered: AlterRequest[] = [];
  const admin = {
    listTopics: () => Promise.resolve(Object.keys(own)),
    createTopics: ({ topics }: { topics: ITopicConfig[] }) => {
      created.push(...topics);
      for (const t of topics)
        own[t.topic] = Object.fromEntries((t.configEntries ?? []).map((e) => [e.name, e.value]));
      return Promise.resolve(true);
    },
    fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
      Promise.resolve({
        topics: topics.map((name) => ({
          name,
          partitions: created
            .filter((t) => t.topic === name)
            .flatMap((t) =>
              Array.from({ length: t.numPartitions ?? 1 }, (_, i) => ({
                partitionId: i,
                leader: 1,
              })),
            ),
        })),
      }),
    describeConfigs: ({ resources }: { resources: { name: string }[] }) =>
      Promise.resolve({
        throttleTime: 0,
        resources: resources.map(({ name }) => ({
          resourceName: name,
          errorCode: 0,
          configEntries: Object.entries({ ...BROKER_DEFAULTS, ...own[name] }).map(
            ([configName, configValue]) => ({
              configName,
              configValue,
              configSource: own[name]?.[configName] === undefined ? DEFAULT_CONFIG : TOPIC_CONFIG,
              isSensitive: false,
              isDefault: own[name]?.[configName] === undefined,
              readOnly: false,
            }),
          ),
        })),
      }),
    alterConfigs: ({ resources }: { resources: AlterRequest[] }) => {
      for (const r of resources) {
        altered.push(r);
        own[r.name] = Object.fromEntries(r.configEntries.map((e) => [e.name, e.value]));
      }
      return Promise.resolve();
    },
  };
  return { admin: admin as unknown as Admin, created, altered, own };
}

function recordingLog(): { log: Logger; warnings: { fields: unknown; message: string }[] } {
  const warnings: { fields: unknown; message: string }[] = [];
  const log = {
    info: () => undefined,
    warn: (fields: unknown, message: string) => warnings.push({ fields, message }),
  } as unknown as Logger;
  return { log, warnings };
}

const config = loadConfig({ CONTINUUM_TOPIC_PARTITIONS: '2' });
const specs = platformTopics(config);
/** Own configs of every platform topic exactly as platformTopics() creates them. */
const asCreated = (): Record<string, Record<string, string>> =>
  Object.fromEntries(
    specs.map((s) => [s.topic, Object.fromEntries(s.configEntries.map((e) => [e.name, e.value]))]),
  );

describe('ensurePlatformTopics', () => {
  it('creates the missing platform topics with their configs', async () => {
    const { admin, created, altered } = fakeAdmin({});
    const { log } = recordingLog();
    const report = await ensurePlatformTopics(admin, config, log);
    expect(report.created.sort()).toEqual(specs.map((s) => s.topic).sort());
    expect(created.find((t) => t.topic === 'telemetry.raw')).toEqual({
      topic: 'telemetry.raw',
      numPartitions: 2,
      configEntries: expect.arrayContaining([
        { name: 'message.timestamp.type', value: 'LogAppendTime' },
      ]) as unknown,
    });
    expect(altered).toEqual([]);
  });

  it('gives an existing topic made before LogAppendTime the write-time clock, keeping its own configs', async () => {
    const own = asCreated();
    // As `stack up` made telemetry.raw before this change, plus a config an operator added.
    own['telemetry.raw'] = { 'retention.ms': '604800000', 'segment.bytes': '104857600' };
    const { admin, altered } = fakeAdmin(own);
    const { log, warnings } = recordingLog();
    const report = await ensurePlatformTopics(admin, config, log);
    expect(report).toEqual({
      created: [],
      aligned: [
        {
          topic: 'telemetry.raw',
          had: { 'message.timestamp.type': 'CreateTime' },
          set: { 'message.timestamp.type': 'LogAppendTime' },
        },
      ],
    });
    // AlterConfigs replaces the topic's own configs: the ones it had went back with ours.
    expect(altered).toHaveLength(1);
    expect(
      Object.fromEntries(altered[0]?.configEntries.map((e) => [e.name, e.value]) ?? []),
    ).toEqual({
      'retention.ms': '604800000',
      'segment.bytes': '104857600',
      'message.timestamp.type': 'LogAppendTime',
    });
    expect(warnings).toEqual([
      {
        fields: {
          topic: 'telemetry.raw',
          had: { 'message.timestamp.type': 'CreateTime' },
          set: { 'message.timestamp.type': 'LogAppendTime' },
        },
        message: expect.stringContaining('set them') as unknown,
      },
    ]);
    // A second start finds nothing to do.
    expect((await ensurePlatformTopics(admin, config, recordingLog().log)).aligned).toEqual([]);
  });

  it('compacts a view made without compaction, and leaves a retention an operator chose', async () => {
    const own = asCreated();
    own['shipment.state'] = { 'min.compaction.lag.ms': '0' };
    own[dlqTopic('telemetry.raw')] = {
      'retention.ms': '-1',
      'message.timestamp.type': 'LogAppendTime',
    };
    const { admin } = fakeAdmin(own);
    const { aligned } = await ensurePlatformTopics(admin, config, recordingLog().log);
    expect(aligned).toEqual([
      {
        topic: 'shipment.state',
        had: { 'cleanup.policy': 'delete', 'message.timestamp.type': 'CreateTime' },
        set: { 'cleanup.policy': 'compact', 'message.timestamp.type': 'LogAppendTime' },
      },
    ]);
  });
});

describe('topicConfigChanges', () => {
  const spec = {
    topic: 't',
    numPartitions: 1,
    configEntries: [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'retention.ms', value: '1000' },
    ],
  };
  const described = (entries: Record<string, [string, boolean]>) =>
    new Map(Object.entries(entries).map(([k, [value, ownValue]]) => [k, { value, ownValue }]));

  it('takes compact,delete as compacted, and sets a default the topic inherits otherwise', () => {
    expect(
      topicConfigChanges(
        spec,
        described({ 'cleanup.policy': ['compact,delete', true], 'retention.ms': ['5', false] }),
      ),
    ).toEqual({ had: { 'retention.ms': '5' }, set: { 'retention.ms': '1000' } });
    expect(
      topicConfigChanges(
        spec,
        described({ 'cleanup.policy': ['compact', true], 'retention.ms': ['5', true] }),
      ),
    ).toBeUndefined();
  });
});
