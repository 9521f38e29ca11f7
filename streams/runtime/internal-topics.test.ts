import { ensureTopologyTopics } from './internal-topics.ts';
import type { NewTopic, StreamsAdmin } from './kafka-port.ts';
import { stringSerde } from './serde.ts';
import { TopologyBuilder } from './topology.ts';

const strings = { key: stringSerde, value: stringSerde };
const noop = () => ({ process: () => undefined });

/** An admin over an in-memory topic list and configs: records what it is asked to change. */
function fakeAdmin(
  existing: Record<string, number>,
  configs: Record<string, Record<string, string>> = {},
): StreamsAdmin & { created: NewTopic[]; set: [string, Record<string, string>][] } {
  const created: NewTopic[] = [];
  const set: [string, Record<string, string>][] = [];
  return {
    created,
    set,
    partitionCounts: (topics) =>
      Promise.resolve(
        new Map(topics.filter((t) => t in existing).map((t) => [t, existing[t] ?? 0])),
      ),
    listTopics: () => Promise.resolve(Object.keys(existing)),
    createTopics: (topics) => {
      created.push(...topics);
      return Promise.resolve();
    },
    topicConfigs: (topics, names) =>
      Promise.resolve(
        new Map(
          topics.map((t) => [
            t,
            Object.fromEntries(names.map((n) => [n, configs[t]?.[n] ?? BROKER_DEFAULTS[n] ?? ''])),
          ]),
        ),
      ),
    setTopicConfigs: (topic, values) => {
      set.push([topic, { ...values }]);
      return Promise.resolve();
    },
    endOffsets: () => Promise.resolve([]),
    deleteRecordsBefore: () => Promise.resolve(),
    deleteGroups: () => Promise.resolve(),
    committedOffsets: () => Promise.resolve(new Map()),
    close: () => Promise.resolve(),
  };
}

const BROKER_DEFAULTS: Record<string, string> = {
  'cleanup.policy': 'delete',
  'message.timestamp.type': 'CreateTime',
  'retention.ms': '604800000',
};

describe('ensureTopologyTopics', () => {
  const topology = new TopologyBuilder('app')
    .addSource('in', 'input', strings)
    .addProcessor('rekey', noop, ['in'])
    .addRepartition('by-vehicle', strings, ['rekey'])
    .addProcessor('join', noop, ['by-vehicle'])
    .addStateStore({ name: 'latest', serdes: strings }, ['join'])
    .addSink('out', 'output', strings, ['join'])
    .build();

  it('creates changelogs compacted and write-time stamped, repartitions kept whatever their timestamps, with the inputs’ partitions', async () => {
    const admin = fakeAdmin({ input: 3 });
    const { partitions, created } = await ensureTopologyTopics(admin, topology);
    expect(partitions).toBe(3);
    const byName = new Map(admin.created.map((t) => [t.topic, t]));
    // Event-time records would otherwise fall to time retention before the join reads them.
    expect(byName.get('app-by-vehicle-repartition')).toEqual({
      topic: 'app-by-vehicle-repartition',
      partitions: 3,
      configs: { 'retention.ms': '-1' },
    });
    expect(byName.get('app-latest-changelog')?.configs).toEqual({
      'cleanup.policy': 'compact',
      'message.timestamp.type': 'LogAppendTime',
      'segment.ms': '3600000',
    });
    // Dead letters are kept 30 days from when they were written.
    expect(byName.get('input.dlq')?.configs).toEqual({
      'retention.ms': String(30 * 86_400_000),
      'message.timestamp.type': 'LogAppendTime',
    });
    expect(created).toEqual(
      expect.arrayContaining(['input.dlq', 'app-by-vehicle-repartition.dlq']),
    );
  });

  it('creates only what is missing, and refuses absent inputs', async () => {
    const admin = fakeAdmin({ input: 3, 'app-latest-changelog': 3 });
    const { created } = await ensureTopologyTopics(admin, topology);
    expect(created).not.toContain('app-latest-changelog');
    await expect(ensureTopologyTopics(fakeAdmin({}), topology)).rejects.toThrow(
      'input topics of app do not exist: input',
    );
  });

  it('sets the configs an existing internal topic lacks, and leaves right ones alone', async () => {
    const admin = fakeAdmin(
      {
        input: 3,
        'app-by-vehicle-repartition': 3,
        'app-latest-changelog': 3,
      },
      // Made before repartition topics kept their records (the broker's 7 days) and before
      // changelogs were stamped with write time (CreateTime).
      { 'app-latest-changelog': { 'cleanup.policy': 'compact,delete' } },
    );
    const { aligned } = await ensureTopologyTopics(admin, topology);
    expect(admin.set).toEqual([
      ['app-by-vehicle-repartition', { 'retention.ms': '-1' }],
      ['app-latest-changelog', { 'message.timestamp.type': 'LogAppendTime' }],
    ]);
    expect(aligned).toEqual([
      {
        topic: 'app-by-vehicle-repartition',
        had: { 'retention.ms': '604800000' },
        set: { 'retention.ms': '-1' },
      },
      {
        topic: 'app-latest-changelog',
        had: { 'message.timestamp.type': 'CreateTime' },
        set: { 'message.timestamp.type': 'LogAppendTime' },
      },
    ]);
    const compacted = fakeAdmin(
      { input: 3, 'app-latest-changelog': 3 },
      {
        'app-latest-changelog': {
          'cleanup.policy': 'delete',
          'message.timestamp.type': 'LogAppendTime',
        },
      },
    );
    await ensureTopologyTopics(compacted, topology);
    expect(compacted.set).toEqual([['app-latest-changelog', { 'cleanup.policy': 'compact' }]]);
  });
});
