// The streams runtime on the real broker: a stateful topology with a repartition, a
// changelogged store, dead letters, and a restart that restores the store from its changelog.
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import { createLogger } from '../../core/logger.ts';
import { dlqTopic } from '../../core/topics.ts';
import { waitFor } from '../../core/wait-for.ts';
import {
  StreamsApplication,
  type ProcessingGuarantee,
} from '../../streams/runtime/streams-application.ts';
import { changelogTopic, repartitionTopic } from '../../streams/runtime/topology.ts';
import { depotTotalsTopology, type Delivery } from '../support/depot-totals-topology.ts';
import {
  createKafka,
  createTestTopic,
  deleteTestTopics,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const DEPOTS = ['BER', 'HAM', 'MUC', 'CGN', 'FRA'];

function deliveries(from: number, count: number): Delivery[] {
  return Array.from({ length: count }, (_, i) => ({
    parcel: `p-${from + i}`,
    depot: DEPOTS[(from + i) % DEPOTS.length] ?? 'BER',
    kg: ((from + i) % 7) + 1,
  }));
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

describe.each<ProcessingGuarantee>(['exactly-once', 'at-least-once'])(
  'streams runtime (%s)',
  (guarantee) => {
    let kafka: Kafka;
    let input: string;
    let output: string;
    const applicationId = uniqueName(`test-app-${guarantee === 'exactly-once' ? 'eos' : 'alo'}`);
    const apps: StreamsApplication[] = [];

    beforeAll(async () => {
      kafka = createKafka(config, 'streams-runtime');
      input = await createTestTopic(kafka, { partitions: 3 });
      output = await createTestTopic(kafka, { partitions: 3 });
    });

    afterAll(async () => {
      for (const app of apps) await app.stop().catch(() => undefined);
      const topology = depotTotalsTopology(applicationId, input, output);
      await deleteTestTopics(kafka, [
        input,
        output,
        dlqTopic(input),
        ...topology.internalTopics().map((t) => t.topic),
        dlqTopic(repartitionTopic(applicationId, 'by-depot')),
      ]).catch(() => undefined);
    });

    async function startApp(): Promise<StreamsApplication> {
      const app = new StreamsApplication({
        topology: depotTotalsTopology(applicationId, input, output),
        kafka,
        log,
        guarantee,
        metricsRegistry: new Registry(),
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
          ...records.map((d) => ({ key: d.parcel, value: JSON.stringify(d) })),
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
          return [...expectedTotals(first)].every(([depot, kg]) => totals.get(depot) === kg);
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

      await app.stop();
      apps.pop();
      const second = deliveries(200, 100);
      await produce(second);
      await startApp();
      const all = [...first, ...second];
      await waitFor(
        async () => {
          const totals = await latestTotals(kafka, output, 300);
          return [...expectedTotals(all)].every(([depot, kg]) => totals.get(depot) === kg);
        },
        { timeoutMs: 90_000, description: 'totals continue from the restored store' },
      );
      expect(apps.every((a) => a.error === undefined)).toBe(true);
    });
  },
);

describe('changelog restore', () => {
  it('completes when the changelog ends in an aborted transaction (regression: restore hung on marker-only batches)', async () => {
    const kafka = createKafka(config, 'streams-restore');
    const input = await createTestTopic(kafka, { partitions: 1 });
    const output = await createTestTopic(kafka, { partitions: 1 });
    const applicationId = uniqueName('test-app-restore');
    const topology = depotTotalsTopology(applicationId, input, output);
    const apps: StreamsApplication[] = [];
    const run = async (): Promise<StreamsApplication> => {
      const app = new StreamsApplication({
        topology: depotTotalsTopology(applicationId, input, output),
        kafka,
        log,
        guarantee: 'exactly-once',
        metricsRegistry: new Registry(),
      });
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
        messages: records.map((d) => ({ key: d.parcel, value: JSON.stringify(d) })),
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
          description: 'totals continue from the committed changelog, ignoring the aborted records',
        },
      );
    } finally {
      for (const app of apps) await app.stop().catch(() => undefined);
      await deleteTestTopics(kafka, [
        input,
        output,
        dlqTopic(input),
        ...topology.internalTopics().map((t) => t.topic),
        dlqTopic(repartitionTopic(applicationId, 'by-depot')),
      ]).catch(() => undefined);
    }
  });
});
