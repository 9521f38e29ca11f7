import { ensureTopologyTopics } from './internal-topics.ts';
import type { NewTopic, StreamsAdmin } from './kafka-port.ts';
import { stringSerde } from './serde.ts';
import { TopologyBuilder } from './topology.ts';

const strings = { key: stringSerde, value: stringSerde };
const noop = () => ({ process: () => undefined });

/** An admin over an in-memory topic list: records what it is asked to create. */
function fakeAdmin(existing: Record<string, number>): StreamsAdmin & { created: NewTopic[] } {
  const created: NewTopic[] = [];
  return {
    created,
    partitionCounts: (topics) =>
      Promise.resolve(
        new Map(topics.filter((t) => t in existing).map((t) => [t, existing[t] ?? 0])),
      ),
    listTopics: () => Promise.resolve(Object.keys(existing)),
    createTopics: (topics) => {
      created.push(...topics);
      return Promise.resolve();
    },
    endOffsets: () => Promise.resolve([]),
    deleteRecordsBefore: () => Promise.resolve(),
    deleteGroups: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

describe('ensureTopologyTopics', () => {
  const topology = new TopologyBuilder('app')
    .addSource('in', 'input', strings)
    .addProcessor('rekey', noop, ['in'])
    .addRepartition('by-vehicle', strings, ['rekey'])
    .addProcessor('join', noop, ['by-vehicle'])
    .addStateStore({ name: 'latest', serdes: strings }, ['join'])
    .addSink('out', 'output', strings, ['join'])
    .build();

  it('creates changelogs compacted, repartitions kept whatever their timestamps, with the inputs’ partitions', async () => {
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
    expect(byName.get('app-latest-changelog')?.configs).toEqual({ 'cleanup.policy': 'compact' });
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
});
