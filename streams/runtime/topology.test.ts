import { stringSerde } from './serde.ts';
import { changelogTopic, repartitionTopic, TopologyBuilder, TopologyError } from './topology.ts';

const strings = { key: stringSerde, value: stringSerde };
const noop = () => ({ process: () => undefined });

describe('TopologyBuilder', () => {
  it('builds sources, processors, stores, sinks and repartitions, naming internal topics like Kafka Streams', () => {
    const topology = new TopologyBuilder('app')
      .addSource('in', 'input', strings)
      .addProcessor('rekey', noop, ['in'])
      .addRepartition('by-vehicle', strings, ['rekey'])
      .addProcessor('join', noop, ['by-vehicle'])
      .addStateStore({ name: 'latest', serdes: strings }, ['join'])
      .addStateStore({ name: 'scratch', serdes: strings, changelog: false }, ['join'])
      .addSink('out', 'output', strings, ['join'])
      .build();
    expect(topology.inputTopics()).toEqual(['input', 'app-by-vehicle-repartition']);
    expect(topology.internalTopics()).toEqual([
      { topic: repartitionTopic('app', 'by-vehicle'), compacted: false },
      { topic: changelogTopic('app', 'latest'), compacted: true },
    ]);
    expect(changelogTopic('app', 'latest')).toBe('app-latest-changelog');
    expect(topology.describe()).toContain('processor join: → out stores: latest, scratch');
  });

  it('refuses what cannot run, saying what is wrong', () => {
    expect(() => new TopologyBuilder('app').build()).toThrow(
      'a topology needs at least one source',
    );
    expect(() =>
      new TopologyBuilder('app').addSource('in', 't', strings).addProcessor('p', noop, ['nope']),
    ).toThrow(/names parent "nope", which does not exist/);
    expect(() =>
      new TopologyBuilder('app').addSource('in', 't', strings).addSource('in', 'u', strings),
    ).toThrow(TopologyError);
    expect(() =>
      new TopologyBuilder('app').addSource('a', 't', strings).addSource('b', 't', strings),
    ).toThrow('topic "t" already has a source');
    expect(() =>
      new TopologyBuilder('app')
        .addSource('in', 't', strings)
        .addProcessor('p', noop, ['in'])
        .addStateStore({ name: 's', serdes: strings }, ['in']),
    ).toThrow('store "s" is connected to "in", which is not a processor');
    expect(() => new TopologyBuilder('app').addSource('in', 't', strings).build()).toThrow(
      'source "in" has no children',
    );
    expect(() => new TopologyBuilder('bad app id')).toThrow(TopologyError);
  });
});

describe('global stores', () => {
  it('are connected to processors, kept out of the inputs and described', () => {
    const topology = new TopologyBuilder('app')
      .addSource('in', 'input', strings)
      .addProcessor('join', noop, ['in'])
      .addGlobalStore({ name: 'models', topic: 'models-topic', serdes: strings }, ['join'])
      .build();
    expect(topology.globalStoreFor('models-topic')?.name).toBe('models');
    expect(topology.inputTopics()).toEqual(['input']);
    expect(topology.internalTopics()).toEqual([]);
    expect(topology.describe()).toContain('global store models: topic models-topic');
  });

  it('refuses a topic that is also a source, a taken name and an unknown processor', () => {
    const base = () =>
      new TopologyBuilder('app')
        .addSource('in', 'input', strings)
        .addProcessor('join', noop, ['in'])
        .addStateStore({ name: 'local', serdes: strings }, ['join']);
    expect(() =>
      base().addGlobalStore({ name: 'g', topic: 'input', serdes: strings }, ['join']),
    ).toThrow('topic "input" is a source; a global store needs its own');
    expect(() =>
      base().addGlobalStore({ name: 'local', topic: 'g', serdes: strings }, ['join']),
    ).toThrow('a store named "local" already exists');
    expect(() =>
      base().addGlobalStore({ name: 'g', topic: 'g', serdes: strings }, ['nobody']),
    ).toThrow('connected to "nobody", which is not a processor');
    expect(() =>
      base()
        .addGlobalStore({ name: 'g', topic: 'g', serdes: strings }, ['join'])
        .addSource('again', 'g', strings),
    ).toThrow('topic "g" fills a global store; it cannot also be a source');
  });
});
