// The streams runtime on the real broker, once per Kafka client adapter (kafkajs and
// @platformatic/kafka) with the same assertions: a stateful topology with a repartition, a
// changelogged store, dead letters, a restart that restores the store from its changelog, a
// changelog flush above the broker's message size, a zombie fenced, and a whole topic followed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import kafkajs, { type Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { createLogger } from '../../core/logger.ts';
import { dlqTopic } from '../../core/topics.ts';
import { waitFor } from '../../core/wait-for.ts';
import {
  createStreamsClient,
  STREAMS_CLIENT_KINDS,
} from '../../streams/runtime/clients/create-streams-client.ts';
import type {
  ConsumedRecord,
  StreamsClientKind,
  StreamsKafkaClient,
} from '../../streams/runtime/kafka-port.ts';
import {
  StreamsApplication,
  type ProcessingGuarantee,
  type StreamsApplicationOptions,
} from '../../streams/runtime/streams-application.ts';
import { TaskFailedError } from '../../streams/runtime/stream-task.ts';
import type { Processor, ProcessorContext } from '../../streams/runtime/processor.ts';
import { jsonSerde, stringSerde } from '../../streams/runtime/serde.ts';
import {
  StateDirectory,
  StateDirectoryLockedError,
} from '../../streams/runtime/state-directory.ts';
import type { KeyValueStore, ReadOnlyKeyValueStore } from '../../streams/runtime/state-store.ts';
import {
  changelogTopic,
  repartitionTopic,
  TopologyBuilder,
  type Topology,
} from '../../streams/runtime/topology.ts';
import {
  deliveryMessages,
  depotTotalsTopics,
  depotTotalsTopology,
  type Delivery,
} from '../support/depot-totals-topology.ts';
import {
  countRecords,
  createKafka,
  createTestTopic,
  deleteTestTopics,
  readToEnd,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);

/**
 * createTestTopic, tried again when the broker, busy with everyone's tests, answers its
 * metadata check with UNKNOWN_TOPIC_OR_PARTITION right after creating the topic (kafkajs's
 * createTopics only retries LEADER_NOT_AVAILABLE there).
 */
function newTopic(kafka: Kafka, options: { partitions: number }): Promise<string> {
  return waitFor(() => createTestTopic(kafka, options), {
    timeoutMs: 60_000,
    description: 'a test topic created',
  });
}
const log = createLogger('warn');
const DEPOTS = ['BER', 'HAM', 'MUC', 'CGN', 'FRA'];

function deliveries(from: number, count: number): Delivery[] {
  return Array.from({ length: count }, (_, i) => ({
    parcel: `p-${from + i}`,
    depot: DEPOTS[(from + i) % DEPOTS.length] ?? 'BER',
    kg: ((from + i) % 7) + 1,
  }));
}

/** Parcels (key parcel, value depot code) to depot names, from a global store of the names. */
function depotNamesTopology(
  applicationId: string,
  input: string,
  output: string,
  names: string,
): Topology {
  const strings = { key: stringSerde, value: stringSerde };
  return new TopologyBuilder(applicationId)
    .addSource('parcels', input, strings)
    .addProcessor(
      'name',
      (): Processor<string, string, string, string> => {
        let context!: ProcessorContext<string, string>;
        let depots!: ReadOnlyKeyValueStore<string, string>;
        return {
          init: (c) => {
            context = c;
            depots = c.getGlobalStore('depot-names');
          },
          process: (record) =>
            context.forward({ ...record, value: depots.get(record.value) ?? 'unknown' }),
        };
      },
      ['parcels'],
    )
    .addGlobalStore({ name: 'depot-names', topic: names, serdes: strings }, ['name'])
    .addSink('named', output, strings, ['name'])
    .build();
}

const WIDE_STORES = ['wide-a', 'wide-b'] as const;
const WIDE_KEYS = 2_500;

/**
 * "fill" writes WIDE_KEYS values of 600 bytes into each of two stores (about 1.5 MB of changelog
 * per store, in one commit); "count" forwards how many entries each store holds.
 */
function wideStoresTopology(applicationId: string, input: string, output: string): Topology {
  const strings = { key: stringSerde, value: stringSerde };
  const builder = new TopologyBuilder(applicationId).addSource('in', input, strings).addProcessor(
    'wide',
    (): Processor<string, string, string, string> => {
      let context!: ProcessorContext<string, string>;
      let stores!: KeyValueStore<string, string>[];
      return {
        init: (c) => {
          context = c;
          stores = WIDE_STORES.map((name) => c.getStateStore<string, string>(name));
        },
        process: (record) => {
          if (record.value === 'fill') {
            for (const store of stores)
              for (let i = 0; i < WIDE_KEYS; i++) store.put(`key-${i}`, 'x'.repeat(600));
            context.forward({ ...record, value: 'filled' });
          } else {
            context.forward({
              ...record,
              value: stores.map((store) => store.all().length).join(','),
            });
          }
        },
      };
    },
    ['in'],
  );
  for (const name of WIDE_STORES) builder.addStateStore({ name, serdes: strings }, ['wide']);
  return builder.addSink('out', output, strings, ['wide']).build();
}

async function produceTo(
  kafka: Kafka,
  topic: string,
  messages: { key: string; value: string }[],
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

function expectedTotals(all: readonly Delivery[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const d of all) if (d.kg >= 0) totals.set(d.depot, (totals.get(d.depot) ?? 0) + d.kg);
  return totals;
}

/** Latest committed total per depot on the output topic. */
async function latestTotals(
  kafka: Kafka,
  topic: string,
  count: number,
): Promise<Map<string, number>> {
  const messages = await waitForMessages(kafka, topic, { count, isolationLevel: 'read_committed' });
  const latest = new Map<string, number>();
  for (const m of messages) latest.set(m.key?.toString() ?? '', Number(m.value?.toString()));
  return latest;
}

describe.each<StreamsClientKind>([...STREAMS_CLIENT_KINDS])('on %s', (kind) => {
  let client: StreamsKafkaClient;

  beforeAll(() => {
    client = createStreamsClient(config, kind, log);
  });

  /** An application on this client: exactly-once with metrics of its own, unless told otherwise. */
  const newApp = (
    topology: Topology,
    options: Partial<Omit<StreamsApplicationOptions, 'topology' | 'client' | 'log'>> = {},
  ): StreamsApplication =>
    new StreamsApplication({
      topology,
      client,
      log,
      guarantee: 'exactly-once',
      metricsRegistry: new Registry(),
      ...options,
    });

  describe.each<ProcessingGuarantee>(['exactly-once', 'at-least-once'])(
    'streams runtime (%s)',
    (guarantee) => {
      let kafka: Kafka;
      let input: string;
      let output: string;
      const applicationId = uniqueName(
        `test-app-${kind}-${guarantee === 'exactly-once' ? 'eos' : 'alo'}`,
      );
      const apps: StreamsApplication[] = [];

      beforeAll(async () => {
        kafka = createKafka(config, 'streams-runtime');
        input = await newTopic(kafka, {
          partitions: 3,
        });
        output = await newTopic(kafka, {
          partitions: 3,
        });
      });

      afterAll(async () => {
        for (const app of apps) await app.stop().catch(() => undefined);
        await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output)).catch(
          () => undefined,
        );
      });

      let registry = new Registry();

      /**
       * Exactly-once: the totals equal the sums. At-least-once: none below them. A consumer
       * restart replays what was sent but not committed (a transient NOT_LEADER_OR_FOLLOWER on
       * the fresh internal topics at the first assignment does it now and then), and the
       * replayed repartition records are counted again: that is the guarantee, not a fault.
       */
      const totalsReached = (
        totals: ReadonlyMap<string, number>,
        expected: ReadonlyMap<string, number>,
      ): boolean =>
        [...expected].every(([depot, kg]) =>
          guarantee === 'exactly-once' ? totals.get(depot) === kg : (totals.get(depot) ?? 0) >= kg,
        );

      async function startApp(): Promise<StreamsApplication> {
        registry = new Registry();
        const app = newApp(depotTotalsTopology(applicationId, input, output), {
          guarantee,
          // One transaction per batch here; the other cases and the crash test run the default
          // interval (100 ms), with transactions spanning batches.
          commitIntervalMs: guarantee === 'exactly-once' ? 0 : undefined,
          repartitionPurgeIntervalMs: 500,
          metricsRegistry: registry,
        });
        apps.push(app);
        await app.start();
        return app;
      }

      async function produce(records: readonly Delivery[], raw: Buffer[] = []): Promise<void> {
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        await producer.send({
          topic: input,
          acks: -1,
          messages: [
            ...deliveryMessages(records),
            ...raw.map((value) => ({ key: 'poison', value })),
          ],
        });
        await producer.disconnect();
      }

      it('sums per depot through a repartition and a changelogged store, dead-letters poison, and restores after a restart', async () => {
        const first = deliveries(0, 200);
        const rejected: Delivery = { parcel: 'neg', depot: 'BER', kg: -5 };
        await produce([...first, rejected], [Buffer.from('{truncated')]);
        const app = await startApp();
        await waitFor(
          async () => {
            const totals = await latestTotals(kafka, output, 200);
            return totalsReached(totals, expectedTotals(first));
          },
          { timeoutMs: 90_000, description: 'totals of the first 200 deliveries' },
        );

        const undecodable = await waitForMessages(kafka, dlqTopic(input), { count: 1 });
        expect(undecodable[0]?.value?.toString()).toBe('{truncated');
        expect(undecodable[0]?.headers?.[DLQ_HEADERS.stage]?.toString()).toBe('deserialize');
        const refused = await waitForMessages(
          kafka,
          dlqTopic(repartitionTopic(applicationId, 'by-depot')),
          { count: 1 },
        );
        expect(refused[0]?.headers?.[DLQ_HEADERS.errorMessage]?.toString()).toBe(
          'parcel neg weighs -5 kg',
        );

        // The changelog holds the store: its last value per depot equals the totals.
        const changelog = await waitForMessages(kafka, changelogTopic(applicationId, 'totals'), {
          count: 1,
        });
        const fromChangelog = new Map(
          changelog.map((m) => [m.key?.toString() ?? '', Number(m.value?.toString())]),
        );
        for (const depot of DEPOTS) expect(fromChangelog.has(depot)).toBe(true);

        // Consumed repartition records are deleted (the topic keeps records regardless of age,
        // so this is what bounds it): each partition starts where the group has committed.
        const repartition = repartitionTopic(applicationId, 'by-depot');
        await waitFor(
          async () => {
            const admin = kafka.admin();
            await admin.connect();
            try {
              const [group] = await admin.fetchOffsets({
                groupId: applicationId,
                topics: [repartition],
              });
              const committed = new Map(
                (group?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
              );
              const offsets = await admin.fetchTopicOffsets(repartition);
              return (
                [...committed.values()].some((o) => o > 0) &&
                offsets.every((o) => Number(o.low) === Math.max(0, committed.get(o.partition) ?? 0))
              );
            } finally {
              await admin.disconnect();
            }
          },
          { timeoutMs: 30_000, description: 'consumed repartition records purged' },
        );
        const purges = await registry.getSingleMetric('continuum_repartition_purges_total')?.get();
        const purged = purges?.values.find((v) => v.labels.outcome === 'purged')?.value ?? 0;
        expect(purged).toBeGreaterThan(0);

        await app.stop();
        apps.pop();
        const second = deliveries(200, 100);
        await produce(second);
        await startApp();
        const all = [...first, ...second];
        await waitFor(
          async () => {
            const totals = await latestTotals(kafka, output, 300);
            return totalsReached(totals, expectedTotals(all));
          },
          { timeoutMs: 90_000, description: 'totals continue from the restored store' },
        );
        expect(apps.every((a) => a.error === undefined)).toBe(true);
      });

      it("commits a changelog flush larger than the broker's message size, and restores it", async () => {
        const wideInput = await newTopic(kafka, { partitions: 1 });
        const wideOutput = await newTopic(kafka, { partitions: 1 });
        const wideId = uniqueName(`test-app-wide-${kind}`);
        const run = async (): Promise<StreamsApplication> => {
          const app = newApp(wideStoresTopology(wideId, wideInput, wideOutput), {
            guarantee,
          });
          apps.push(app);
          await app.start();
          return app;
        };
        let second: StreamsApplication | undefined;
        try {
          const first = await run();
          await produceTo(kafka, wideInput, [{ key: 'k', value: 'fill' }]);
          await waitForMessages(kafka, wideOutput, { count: 1, isolationLevel: 'read_committed' });
          await first.stop();
          expect(first.error).toBeUndefined();
          // Each store's flush is above the broker's 1 MiB message limit on its own.
          for (const store of WIDE_STORES) {
            const changelog = await readToEnd(kafka, changelogTopic(wideId, store));
            expect(changelog).toHaveLength(WIDE_KEYS);
            expect(new Set(changelog.map((m) => m.key?.toString())).size).toBe(WIDE_KEYS);
          }

          second = await run();
          await produceTo(kafka, wideInput, [{ key: 'k', value: 'count' }]);
          const out = await waitForMessages(kafka, wideOutput, {
            count: 2,
            isolationLevel: 'read_committed',
          });
          expect(out.map((m) => m.value?.toString())).toEqual([
            'filled',
            `${WIDE_KEYS},${WIDE_KEYS}`,
          ]);
        } finally {
          // Stopped before its topics go: a consumer of deleted topics restarts in a loop.
          await second?.stop().catch(() => undefined);
          await deleteTestTopics(kafka, [
            wideInput,
            wideOutput,
            ...WIDE_STORES.map((store) => changelogTopic(wideId, store)),
          ]).catch(() => undefined);
        }
      });
    },
  );

  describe('internal topics', () => {
    it('sets the configs the runtime relies on on internal topics that exist without them, keeping their other configs', async () => {
      const kafka = createKafka(config, 'streams-internal-topics');
      const input = await newTopic(kafka, { partitions: 1 });
      const output = await newTopic(kafka, { partitions: 1 });
      const applicationId = uniqueName(`test-app-configs-${kind}`);
      const repartition = repartitionTopic(applicationId, 'by-depot');
      const changelog = changelogTopic(applicationId, 'totals');
      const admin = kafka.admin();
      await admin.connect();
      try {
        // As an older version (or a hand) made them: time retention, no compaction.
        await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic: repartition,
              numPartitions: 1,
              configEntries: [{ name: 'max.message.bytes', value: '2000000' }],
            },
            { topic: changelog, numPartitions: 1 },
          ],
        });
        const app = newApp(depotTotalsTopology(applicationId, input, output));
        await app.start();
        await app.stop();
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [repartition, changelog].map((name) => ({
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name,
            configNames: ['retention.ms', 'cleanup.policy', 'max.message.bytes'],
          })),
        });
        const configs = new Map(
          resources.map((r) => [
            r.resourceName,
            Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
          ]),
        );
        expect(configs.get(repartition)).toMatchObject({
          'retention.ms': '-1',
          'max.message.bytes': '2000000',
        });
        expect(configs.get(changelog)?.['cleanup.policy']).toBe('compact');
      } finally {
        await admin.disconnect();
        await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output)).catch(
          () => undefined,
        );
      }
    });
  });

  describe('changelog restore', () => {
    it('completes when the changelog ends in an aborted transaction (regression: restore hung on marker-only batches)', async () => {
      const kafka = createKafka(config, 'streams-restore');
      const input = await newTopic(kafka, {
        partitions: 1,
      });
      const output = await newTopic(kafka, {
        partitions: 1,
      });
      const applicationId = uniqueName(`test-app-restore-${kind}`);
      const apps: StreamsApplication[] = [];
      const run = async (): Promise<StreamsApplication> => {
        const app = newApp(depotTotalsTopology(applicationId, input, output));
        apps.push(app);
        await app.start();
        return app;
      };
      const send = async (records: readonly Delivery[]): Promise<void> => {
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        await producer.send({
          topic: input,
          acks: -1,
          messages: deliveryMessages(records),
        });
        await producer.disconnect();
      };
      try {
        // Start once with no input, so the internal topics exist and the changelog is empty.
        const app = await run();
        await app.stop();

        // A crashed instance's only transaction, aborted: the changelog holds nothing committed.
        const aborter = kafka.producer({
          transactionalId: uniqueName('test-aborter'),
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await aborter.connect();
        const tx = await aborter.transaction();
        await tx.send({
          topic: changelogTopic(applicationId, 'totals'),
          messages: DEPOTS.map((depot) => ({ key: depot, value: '999999' })),
        });
        await tx.abort();
        await aborter.disconnect();

        const extra = deliveries(50, 10);
        await send(extra);
        await run();
        const all = extra;
        await waitFor(
          async () => {
            const totals = await latestTotals(kafka, output, 10);
            return [...expectedTotals(all)].every(([depot, kg]) => totals.get(depot) === kg);
          },
          {
            timeoutMs: 90_000,
            description:
              'totals continue from the committed changelog, ignoring the aborted records',
          },
        );
      } finally {
        for (const app of apps) await app.stop().catch(() => undefined);
        await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output)).catch(
          () => undefined,
        );
      }
    });
  });

  describe('stores on disk', () => {
    it('a clean restart restores only the changelog tail; without a checkpoint the disk is wiped and rebuilt; one instance per state directory', async () => {
      const kafka = createKafka(config, 'streams-disk');
      const input = await newTopic(kafka, { partitions: 2 });
      const output = await newTopic(kafka, { partitions: 2 });
      const applicationId = uniqueName(`test-app-disk-${kind}`);
      const stateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-state-'));
      const otherStateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-state-'));
      const checkpoints = nodePath.join(stateDir, applicationId, 'checkpoints');
      const apps: StreamsApplication[] = [];
      let registry = new Registry();
      const run = async (dir = stateDir): Promise<StreamsApplication> => {
        registry = new Registry();
        const app = newApp(depotTotalsTopology(applicationId, input, output), {
          persistentStores: true,
          stateDir: dir,
          metricsRegistry: registry,
        });
        apps.push(app);
        await app.start();
        return app;
      };
      const restored = async (start: 'beginning' | 'checkpoint'): Promise<number> => {
        const metric = await registry.getSingleMetric('continuum_restored_records_total')?.get();
        return metric?.values.find((v) => v.labels.start === start)?.value ?? 0;
      };
      const totalsReach = async (all: readonly Delivery[], description: string): Promise<void> => {
        await waitFor(
          async () => {
            const totals = new Map<string, number>();
            for (const m of await readToEnd(kafka, output))
              totals.set(m.key?.toString() ?? '', Number(m.value?.toString()));
            return [...expectedTotals(all)].every(([depot, kg]) => totals.get(depot) === kg);
          },
          { timeoutMs: 90_000, description },
        );
      };
      try {
        const first = deliveries(0, 200);
        await produceTo(kafka, input, deliveryMessages(first));
        const app = await run();
        await totalsReach(first, 'totals of the first 200 deliveries');
        await app.stop();
        // A clean stop leaves a checkpoint per task.
        expect(readdirSync(checkpoints).sort()).toEqual(['0.json', '1.json']);

        // Another instance (its own disk) moves the changelog on meanwhile.
        const second = deliveries(200, 50);
        await produceTo(kafka, input, deliveryMessages(second));
        const other = await run(otherStateDir);
        await totalsReach([...first, ...second], 'totals of 250 deliveries on another instance');
        expect(await restored('beginning')).toBeGreaterThan(0);
        await other.stop();
        apps.pop();

        const third = deliveries(250, 30);
        await produceTo(kafka, input, deliveryMessages(third));
        await run();
        await totalsReach([...first, ...second, ...third], 'totals continue from disk and tail');
        // Only the changelog's tail since the checkpoint was read; the rest came from disk.
        expect(await restored('beginning')).toBe(0);
        expect(await restored('checkpoint')).toBeGreaterThan(0);
        expect(await restored('checkpoint')).toBeLessThan(
          await countRecords(kafka, changelogTopic(applicationId, 'totals')),
        );
        // Checkpoints are taken away while tasks run: a crash now finds none.
        expect(readdirSync(checkpoints)).toEqual([]);

        // A second instance on the same state directory is refused.
        const twin = newApp(depotTotalsTopology(applicationId, input, output), {
          persistentStores: true,
          stateDir,
        });
        await expect(twin.start()).rejects.toBeInstanceOf(StateDirectoryLockedError);

        await apps.pop()?.stop();
        // As after a crash: no checkpoint, and the disk holds something the changelog does not.
        rmSync(checkpoints, { recursive: true, force: true });
        const directory = StateDirectory.open(stateDir, applicationId, log);
        for (const partition of [0, 1]) {
          const store = directory.store<string, number>(partition, {
            name: 'totals',
            serdes: { key: stringSerde, value: jsonSerde<number>() },
          });
          for (const depot of DEPOTS) store.put(depot, 999_999);
          store.commit();
        }
        await directory.close();

        const fourth = deliveries(280, 25);
        await produceTo(kafka, input, deliveryMessages(fourth));
        await run();
        await totalsReach(
          [...first, ...second, ...third, ...fourth],
          'totals rebuilt from the changelog',
        );
        expect(await restored('beginning')).toBeGreaterThan(0);
        expect(await restored('checkpoint')).toBe(0);
      } finally {
        for (const app of apps) await app.stop().catch(() => undefined);
        await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output)).catch(
          () => undefined,
        );
        for (const dir of [stateDir, otherStateDir]) rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('fencing, failures, scaling out, followed topics and global stores', () => {
    it("fences a zombie holding a task's transactional id: its open transaction is aborted, its commit refused", async () => {
      const kafka = createKafka(config, 'streams-fencing');
      const input = await newTopic(kafka, {
        partitions: 1,
      });
      const output = await newTopic(kafka, {
        partitions: 1,
      });
      const applicationId = uniqueName(`test-app-fence-${kind}`);
      const topology = depotTotalsTopology(applicationId, input, output);
      let app: StreamsApplication | undefined;
      // A previous instance of task 0 that stopped mid-transaction but is still alive.
      const zombie = await client.transactionalProducer(`${applicationId}-0`);
      try {
        const open = await zombie.begin();
        await open.send([
          { topic: output, key: Buffer.from('BER'), value: Buffer.from('-1'), timestamp: 1 },
        ]);
        const records = deliveries(0, 20);
        await produceTo(kafka, input, deliveryMessages(records));
        app = newApp(topology);
        await app.start();
        await waitFor(
          async () => {
            const totals = await latestTotals(kafka, output, 20);
            return [...expectedTotals(records)].every(([depot, kg]) => totals.get(depot) === kg);
          },
          { timeoutMs: 90_000, description: 'totals written past the zombie' },
        );
        await expect(open.commit()).rejects.toThrow();
        const written = await readToEnd(kafka, output);
        expect(written.map((m) => m.value?.toString())).not.toContain('-1');
        expect(app.error).toBeUndefined();
      } finally {
        await app?.stop().catch(() => undefined);
        await zombie.close().catch(() => undefined);
        await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output)).catch(
          () => undefined,
        );
      }
    });

    it('follows a whole topic: caught up with its committed records at start, then the new ones', async () => {
      const kafka = createKafka(config, 'streams-follow');
      const topic = await newTopic(kafka, {
        partitions: 2,
      });
      try {
        const before = Array.from({ length: 30 }, (_, i) => ({ key: `k-${i}`, value: `v-${i}` }));
        await produceTo(kafka, topic, before);
        // An aborted transaction ends one partition: its records must never be seen.
        const aborter = kafka.producer({
          transactionalId: uniqueName('test-aborter'),
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await aborter.connect();
        const tx = await aborter.transaction();
        await tx.send({ topic, messages: [{ key: 'k-0', value: 'aborted', partition: 0 }] });
        await tx.abort();
        await aborter.disconnect();

        const seen: ConsumedRecord[] = [];
        const follower = await client.follow({
          topic,
          onRecords: (_partition, records) => {
            seen.push(...records);
            return Promise.resolve();
          },
        });
        try {
          await follower.caughtUp;
          expect(seen.map((r) => r.value?.toString()).sort()).toEqual(
            before.map((r) => r.value).sort(),
          );
          const after = Array.from({ length: 5 }, (_, i) => ({ key: `n-${i}`, value: `n-${i}` }));
          await produceTo(kafka, topic, after);
          await waitFor(() => seen.length >= before.length + after.length, {
            timeoutMs: 30_000,
            description: 'records written after the catch-up delivered',
          });
          expect(seen.map((r) => r.value?.toString())).not.toContain('aborted');
          expect(seen).toHaveLength(before.length + after.length);
        } finally {
          await follower.stop();
        }
      } finally {
        await deleteTestTopics(kafka, [topic]).catch(() => undefined);
      }
    });

    it('loads a global store from its whole topic before processing, then follows the topic', async () => {
      const kafka = createKafka(config, 'streams-global');
      const input = await newTopic(kafka, {
        partitions: 2,
      });
      const output = await newTopic(kafka, {
        partitions: 2,
      });
      const names = await newTopic(kafka, {
        partitions: 2,
      });
      const applicationId = uniqueName(`test-app-global-${kind}`);
      const topology = depotNamesTopology(applicationId, input, output, names);
      let app: StreamsApplication | undefined;
      try {
        await produceTo(kafka, names, [
          { key: 'BER', value: 'Berlin' },
          { key: 'HAM', value: 'Hamburg' },
        ]);
        const first = Array.from({ length: 20 }, (_, i) => ({
          key: `p-${i}`,
          value: i % 2 === 0 ? 'BER' : 'HAM',
        }));
        // Waiting in the input before the application starts: processed straight away.
        await produceTo(kafka, input, first);
        app = newApp(topology);
        await app.start();
        const named = await waitForMessages(kafka, output, { count: first.length });
        expect(new Set(named.map((m) => m.value?.toString()))).toEqual(
          new Set(['Berlin', 'Hamburg']),
        );

        await produceTo(kafka, names, [{ key: 'BER', value: 'Berlin-Tempelhof' }]);
        await waitFor(
          () =>
            app?.globalStores.store<string, string>('depot-names').get('BER') ===
            'Berlin-Tempelhof',
          {
            timeoutMs: 30_000,
            description: 'the renamed depot followed into the global store',
          },
        );
        await produceTo(kafka, input, [{ key: 'p-late', value: 'BER' }]);
        const all = await waitForMessages(kafka, output, { count: first.length + 1 });
        expect(all.find((m) => m.key?.toString() === 'p-late')?.value?.toString()).toBe(
          'Berlin-Tempelhof',
        );
        expect(app.error).toBeUndefined();
      } finally {
        await app?.stop().catch(() => undefined);
        await deleteTestTopics(kafka, [
          input,
          output,
          names,
          dlqTopic(input),
          ...topology.internalTopics().map((t) => t.topic),
        ]).catch(() => undefined);
      }
    });

    it("stops on a processor's 'fail', committing nothing of the failing records", async () => {
      const kafka = createKafka(config, 'streams-fail');
      const input = await newTopic(kafka, {
        partitions: 1,
      });
      const output = await newTopic(kafka, {
        partitions: 1,
      });
      const applicationId = uniqueName(`test-app-fail-${kind}`);
      const strings = { key: stringSerde, value: stringSerde };
      const topology = new TopologyBuilder(applicationId)
        .addSource('in', input, strings)
        .addProcessor(
          'strict',
          (): Processor<string, string, string, string> => {
            let context!: ProcessorContext<string, string>;
            return {
              init: (c) => void (context = c),
              process: (record) => {
                if (record.value === 'boom') throw new Error('cannot handle boom');
                context.forward(record);
              },
            };
          },
          ['in'],
        )
        .addSink('out', output, strings, ['strict'])
        .build();
      let app: StreamsApplication | undefined;
      try {
        await produceTo(kafka, input, [
          { key: 'a', value: 'fine' },
          { key: 'b', value: 'boom' },
        ]);
        let fatal: Error | undefined;
        app = newApp(topology, {
          onFatal: (error) => void (fatal = error),
        });
        await app.start();
        await waitFor(() => fatal !== undefined, {
          timeoutMs: 60_000,
          description: "the application stopped on the processor's failure",
        });
        expect(fatal).toBeInstanceOf(TaskFailedError);
        expect(app.error).toBe(fatal);
        // Both records came in one batch: its transaction was aborted, its offsets not committed.
        expect(await readToEnd(kafka, output)).toHaveLength(0);
        const admin = kafka.admin();
        await admin.connect();
        const [committed] = await admin.fetchOffsets({ groupId: applicationId, topics: [input] });
        await admin.disconnect();
        expect(Number(committed?.partitions[0]?.offset ?? -1)).toBeLessThan(2);
      } finally {
        await app?.stop().catch(() => undefined);
        await deleteTestTopics(kafka, [input, output, dlqTopic(input)]).catch(() => undefined);
      }
    });

    it('shares the partitions between two instances, the totals exact across the rebalance', async () => {
      const kafka = createKafka(config, 'streams-scale');
      const input = await newTopic(kafka, {
        partitions: 3,
      });
      const output = await newTopic(kafka, {
        partitions: 3,
      });
      const applicationId = uniqueName(`test-app-scale-${kind}`);
      const apps: StreamsApplication[] = [];
      const start = async (): Promise<StreamsApplication> => {
        const app = newApp(depotTotalsTopology(applicationId, input, output), {
          sessionTimeoutMs: 6_000,
        });
        apps.push(app);
        await app.start();
        return app;
      };
      try {
        const first = deliveries(0, 1_500);
        await produceTo(
          kafka,
          input,
          first.map((d) => ({ key: d.parcel, value: JSON.stringify(d) })),
        );
        const one = await start();
        await waitFor(async () => (await countRecords(kafka, output)) > 0, {
          timeoutMs: 60_000,
          description: 'the first instance writing',
        });
        const two = await start();
        const second = deliveries(1_500, 1_500);
        await produceTo(
          kafka,
          input,
          second.map((d) => ({ key: d.parcel, value: JSON.stringify(d) })),
        );
        await waitFor(() => one.partitions.length > 0 && two.partitions.length > 0, {
          timeoutMs: 60_000,
          description: 'both instances holding partitions',
        });
        const all = [...first, ...second];
        await waitFor(
          async () => {
            const totals = await latestTotals(kafka, output, all.length);
            return [...expectedTotals(all)].every(([depot, kg]) => totals.get(depot) === kg);
          },
          { timeoutMs: 120_000, description: 'totals of both batches of deliveries' },
        );
        expect(new Set([...one.partitions, ...two.partitions])).toEqual(new Set([0, 1, 2]));
        expect(apps.every((a) => a.error === undefined)).toBe(true);
      } finally {
        for (const app of apps) await app.stop().catch(() => undefined);
        await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output)).catch(
          () => undefined,
        );
      }
    }, 180_000);
  });
});
