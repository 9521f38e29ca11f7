// The runtime's semantics through the broker-free driver: state with changelogs, error
// policies and dead letters, repartitioning, punctuation, and rollback on abort.
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { RecordRejectedError, type Processor, type ProcessorContext } from './processor.ts';
import type { StreamRecord } from './record.ts';
import { jsonSerde, stringSerde, type Serde } from './serde.ts';
import type { KeyValueStore } from './state-store.ts';
import { StreamTask, TaskFailedError } from './stream-task.ts';
import { changelogTopic, TopologyBuilder } from './topology.ts';
import { TopologyTestDriver } from './topology-test-driver.ts';

interface Delivery {
  parcel: string;
  depot: string;
  kg: number;
}

/** Sums kg per depot; refuses negative weights (a domain rejection). */
class DepotTotals implements Processor<string, Delivery, string, number> {
  private context!: ProcessorContext<string, number>;
  private totals!: KeyValueStore<string, number>;

  init(context: ProcessorContext<string, number>): void {
    this.context = context;
    this.totals = context.getStateStore('totals');
  }

  process(record: StreamRecord<string, Delivery>): void {
    if (record.value.kg < 0)
      throw new RecordRejectedError(
        'negative-weight',
        `parcel ${record.value.parcel} weighs ${record.value.kg} kg`,
      );
    if (record.value.kg > 1_000_000) throw new Error('weighing machine on fire');
    const total = (this.totals.get(record.key) ?? 0) + record.value.kg;
    if (total === 0) this.totals.delete(record.key);
    else this.totals.put(record.key, total);
    this.context.forward({ key: record.key, value: total, timestamp: record.timestamp });
  }
}

const json = <T>() => ({ key: stringSerde, value: jsonSerde<T>() });
const numberSerde = { key: stringSerde, value: jsonSerde<number>() };

function totalsTopology(onError?: 'continue') {
  return new TopologyBuilder('depots')
    .addSource('deliveries', 'deliveries', json<Delivery>())
    .addProcessor('rekey', () => new RekeyByDepot(), ['deliveries'])
    .addRepartition('by-depot', json<Delivery>(), ['rekey'])
    .addProcessor(
      'totals',
      () => new DepotTotals(),
      ['by-depot'],
      onError ? { onError: () => onError } : {},
    )
    .addStateStore({ name: 'totals', serdes: numberSerde }, ['totals'])
    .addSink('out', 'depot-totals', numberSerde, ['totals'])
    .build();
}

class RekeyByDepot implements Processor<string, Delivery, string, Delivery> {
  private context!: ProcessorContext<string, Delivery>;
  init(context: ProcessorContext<string, Delivery>): void {
    this.context = context;
  }
  process(record: StreamRecord<string, Delivery>): void {
    this.context.forward({ ...record, key: record.value.depot });
  }
}

describe('TopologyTestDriver', () => {
  it('re-keys through a repartition topic, keeps state in a store, and writes its changelog', async () => {
    const driver = new TopologyTestDriver(totalsTopology());
    await driver.pipeInput('deliveries', 'p1', { parcel: 'p1', depot: 'BER', kg: 10 }, 1_000);
    await driver.pipeInput('deliveries', 'p2', { parcel: 'p2', depot: 'HAM', kg: 4 }, 2_000);
    await driver.pipeInput('deliveries', 'p3', { parcel: 'p3', depot: 'BER', kg: 5 }, 3_000);
    await driver.pipeInput('deliveries', 'p4', { parcel: 'p4', depot: 'HAM', kg: -4 }, 4_000);
    const out = await driver.readOutput<string, number>('depot-totals');
    expect(out.map((o) => [o.key, o.value, o.timestamp])).toEqual([
      ['BER', 10, 1_000],
      ['HAM', 4, 2_000],
      ['BER', 15, 3_000],
    ]);
    expect(driver.store<string, number>('totals').all()).toEqual([
      ['BER', 15],
      ['HAM', 4],
    ]);
    const changelog = driver.rawOutput(changelogTopic('depots', 'totals'));
    expect(changelog.map((c) => [c.key?.toString(), c.value?.toString(), c.partition])).toEqual([
      ['BER', '10', 0],
      ['HAM', '4', 0],
      ['BER', '15', 0],
    ]);
    expect(driver.rawOutput('depots-by-depot-repartition').map((r) => r.key?.toString())).toEqual([
      'BER',
      'HAM',
      'BER',
      'HAM',
    ]);
  });

  it('gives the same outputs, changelog and dead letters with serdes that answer with promises', async () => {
    // Every serde of the platform answers synchronously, and the runtime then skips the await;
    // one that answers with a promise (a registry lookup) is awaited and must give the same.
    const later = <T>(serde: Serde<T>): Serde<T> => ({
      serialize: (value) => Promise.resolve().then(() => serde.serialize(value)),
      deserialize: (bytes) => Promise.resolve().then(() => serde.deserialize(bytes)),
    });
    const run = async (wrap: <T>(serde: Serde<T>) => Serde<T>) => {
      const topology = new TopologyBuilder('depots')
        .addSource('deliveries', 'deliveries', {
          key: wrap(stringSerde),
          value: wrap(jsonSerde<Delivery>()),
        })
        .addProcessor('totals', () => new DepotTotals(), ['deliveries'])
        .addStateStore(
          { name: 'totals', serdes: { key: wrap(stringSerde), value: wrap(jsonSerde<number>()) } },
          ['totals'],
        )
        .addSink(
          'out',
          'depot-totals',
          { key: wrap(stringSerde), value: wrap(jsonSerde<number>()) },
          ['totals'],
        )
        .build();
      const driver = new TopologyTestDriver(topology);
      await driver.pipeInput('deliveries', 'BER', { parcel: 'p1', depot: 'BER', kg: 10 }, 1);
      await driver.pipeRaw('deliveries', {
        key: Buffer.from('x'),
        value: Buffer.from('{no'),
        timestamp: 2,
      });
      await driver.pipeInput('deliveries', 'BER', { parcel: 'p2', depot: 'BER', kg: 5 }, 3);
      const bytes = (outputs: { key: Buffer | null; value: Buffer | null }[]) =>
        outputs.map((o) => [o.key?.toString(), o.value?.toString()]);
      return {
        out: bytes(driver.rawOutput('depot-totals')),
        changelog: bytes(driver.rawOutput(changelogTopic('depots', 'totals'))),
        letters: driver
          .deadLetters()
          .map((l) => [l.value?.toString(), l.headers?.[DLQ_HEADERS.stage]]),
        total: driver.store<string, number>('totals').get('BER'),
      };
    };
    const synchronous = await run((serde) => serde);
    expect(synchronous).toEqual({
      out: [
        ['BER', '10'],
        ['BER', '15'],
      ],
      changelog: [
        ['BER', '10'],
        ['BER', '15'],
      ],
      letters: [['{no', 'deserialize']],
      total: 15,
    });
    expect(await run(later)).toEqual(synchronous);
  });

  it('dead-letters a rejected record and an undecodable one with their original bytes, and keeps going', async () => {
    const driver = new TopologyTestDriver(totalsTopology());
    await driver.pipeRaw('deliveries', {
      key: Buffer.from('bad'),
      value: Buffer.from('{not json'),
      timestamp: 1,
    });
    await driver.pipeInput('deliveries', 'p9', { parcel: 'p9', depot: 'BER', kg: -3 }, 2);
    await driver.pipeInput('deliveries', 'p1', { parcel: 'p1', depot: 'BER', kg: 7 }, 3);
    const undecodable = driver.deadLetters('deliveries');
    expect(undecodable).toHaveLength(1);
    expect(undecodable[0]?.value?.toString()).toBe('{not json');
    expect(undecodable[0]?.headers?.[DLQ_HEADERS.stage]).toBe('deserialize');
    // Stamped when it failed, like Kafka Connect's; the record's own time is kept in a header.
    expect(undecodable[0]?.headers?.[DLQ_HEADERS.timestamp]).toBe('1');
    expect(undecodable[0]?.timestamp).toBe(Number(undecodable[0]?.headers?.[DLQ_HEADERS.failedAt]));
    const rejected = driver.deadLetters('depots-by-depot-repartition');
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0]?.value?.toString() ?? '')).toEqual({
      parcel: 'p9',
      depot: 'BER',
      kg: -3,
    });
    expect(rejected[0]?.headers).toMatchObject({
      [DLQ_HEADERS.stage]: 'process',
      [DLQ_HEADERS.processor]: 'depots.totals',
      [DLQ_HEADERS.errorClass]: 'RecordRejectedError',
      [DLQ_HEADERS.errorMessage]: 'parcel p9 weighs -3 kg',
      // The first record on the repartition topic: the undecodable input never got there.
      [DLQ_HEADERS.offset]: '0',
    });
    expect(driver.deadLetters()).toHaveLength(2);
    expect((await driver.readOutput<string, number>('depot-totals')).map((o) => o.value)).toEqual([
      7,
    ]);
  });

  it('stops the task on an unexpected error by default, and skips it under a continue policy', async () => {
    const failing = new TopologyTestDriver(totalsTopology());
    await expect(
      failing.pipeInput('deliveries', 'p', { parcel: 'p', depot: 'BER', kg: 2e6 }, 1),
    ).rejects.toThrow(TaskFailedError);
    const lenient = new TopologyTestDriver(totalsTopology('continue'));
    await lenient.pipeInput('deliveries', 'p', { parcel: 'p', depot: 'BER', kg: 2e6 }, 1);
    await lenient.pipeInput('deliveries', 'q', { parcel: 'q', depot: 'BER', kg: 1 }, 2);
    expect((await lenient.readOutput<string, number>('depot-totals')).map((o) => o.value)).toEqual([
      1,
    ]);
    expect(lenient.deadLetters()).toEqual([]);
  });

  it('fires stream-time punctuations as event time passes, and wall-clock ones as the clock moves', async () => {
    const fired: string[] = [];
    const topology = new TopologyBuilder('ticks')
      .addSource('in', 'events', { key: stringSerde, value: stringSerde })
      .addProcessor(
        'ticker',
        () => ({
          init: (ctx: ProcessorContext<string, string>) => {
            ctx.schedule(1_000, 'stream-time', (t) => fired.push(`stream@${t}`));
            ctx.schedule(500, 'wall-clock', (t) => fired.push(`wall@${t}`));
          },
          process: () => undefined,
        }),
        ['in'],
      )
      .build();
    const driver = new TopologyTestDriver(topology, { wallClock: 0 });
    await driver.pipeInput('events', 'k', 'a', 10_000);
    await driver.pipeInput('events', 'k', 'b', 10_400);
    await driver.pipeInput('events', 'k', 'late', 9_000); // earlier event: stream time stays
    await driver.pipeInput('events', 'k', 'c', 11_200);
    await driver.advanceWallClock(600);
    expect(fired).toEqual(['stream@11200', 'wall@600']);
    expect(driver.streamTime).toBe(11_200);
  });
});

describe('StreamTask abort', () => {
  it('rolls back store writes, outputs and stream time to the last commit', async () => {
    const task = new StreamTask(totalsTopology(), 0);
    const meta = (offset: number) => ({
      topic: 'depots-by-depot-repartition',
      partition: 0,
      offset: String(offset),
    });
    const bytes = (d: Delivery) => ({
      key: Buffer.from(d.depot),
      value: Buffer.from(JSON.stringify(d)),
      timestamp: 100 * d.kg,
    });
    await task.process(meta(0), bytes({ parcel: 'a', depot: 'BER', kg: 1 }));
    await task.drainOutputs();
    task.commitStores();
    await task.process(meta(1), bytes({ parcel: 'b', depot: 'BER', kg: 5 }));
    expect(task.store<string, number>('totals').get('BER')).toBe(6);
    task.abort();
    expect(task.store<string, number>('totals').get('BER')).toBe(1);
    expect(task.streamTime).toBe(100);
    expect(await task.drainOutputs()).toEqual([]);
  });
});

describe('event time and global stores', () => {
  interface Reading {
    sensor: string;
    at: number;
  }

  /** Forwards each reading labelled from a global store of sensor names. */
  class Label implements Processor<string, Reading, string, string> {
    private context!: ProcessorContext<string, string>;

    init(context: ProcessorContext<string, string>): void {
      this.context = context;
    }

    process(record: StreamRecord<string, Reading>): void {
      const names = this.context.getGlobalStore<string, string>('sensor-names');
      this.context.forward({
        key: record.key,
        value: `${names.get(record.value.sensor) ?? 'unknown'}@${record.timestamp}`,
        timestamp: record.timestamp,
      });
    }
  }

  const topology = () =>
    new TopologyBuilder('labels')
      .addSource(
        'readings',
        'readings',
        { key: stringSerde, value: jsonSerde<Reading>() },
        { timestampExtractor: ({ value }) => value.at },
      )
      .addProcessor('label', () => new Label(), ['readings'])
      .addGlobalStore(
        {
          name: 'sensor-names',
          topic: 'sensor-names',
          serdes: { key: stringSerde, value: stringSerde },
        },
        ['label'],
      )
      .addSink('out', 'labelled', { key: stringSerde, value: stringSerde }, ['label'])
      .build();

  it('takes event time from the extractor and reads the global store as it is filled', async () => {
    const driver = new TopologyTestDriver(topology());
    await driver.pipeInput('readings', 'k', { sensor: 's1', at: 1_000 }, 5);
    await driver.pipeInput('sensor-names', 's1', 'thermometer');
    await driver.pipeInput('readings', 'k', { sensor: 's1', at: 2_000 }, 5);
    await driver.pipeInput('sensor-names', 's1', null);
    await driver.pipeInput('readings', 'k', { sensor: 's1', at: 3_000 }, 5);
    const out = await driver.readOutput<string, string>('labelled');
    expect(out.map((o) => [o.value, o.timestamp])).toEqual([
      ['unknown@1000', 1_000],
      ['thermometer@2000', 2_000],
      ['unknown@3000', 3_000],
    ]);
    expect(driver.streamTime).toBe(3_000);
    expect(driver.rawOutput('sensor-names')).toEqual([]);
  });

  it('dead-letters a record whose event time is not a time, and goes on', async () => {
    const driver = new TopologyTestDriver(topology());
    await driver.pipeInput('readings', 'k', { sensor: 's1', at: Number.NaN }, 5);
    await driver.pipeInput('readings', 'k', { sensor: 's1', at: 4_000 }, 5);
    const [letter, ...more] = driver.deadLetters('readings');
    expect(more).toEqual([]);
    expect(String(letter?.headers?.[DLQ_HEADERS.reason])).toBe('invalid-timestamp');
    expect(String(letter?.headers?.[DLQ_HEADERS.stage])).toBe('extract-timestamp');
    expect((await driver.readOutput<string, string>('labelled')).map((o) => o.value)).toEqual([
      'unknown@4000',
    ]);
  });
});
