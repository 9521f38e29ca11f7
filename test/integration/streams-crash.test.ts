// SIGKILL the process running a stateful topology, again and again, while it works through its
// input, once per Kafka client adapter. With exactly-once the totals afterwards equal the sums
// of the input — nothing lost, nothing applied twice. With at-least-once nothing is lost, but
// replays are counted again: the test reports by how much.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { repoRoot } from '../../core/paths.ts';
import { waitFor } from '../../core/wait-for.ts';
import { STREAMS_CLIENT_KINDS } from '../../streams/runtime/clients/create-streams-client.ts';
import type { StreamsClientKind } from '../../streams/runtime/kafka-port.ts';
import type { ProcessingGuarantee } from '../../streams/runtime/streams-application.ts';
import { repartitionTopic } from '../../streams/runtime/topology.ts';
import { depotTotalsTopics, type Delivery } from '../support/depot-totals-topology.ts';
import {
  countRecords,
  createKafka,
  readToEnd,
  createTestTopic,
  deleteTestTopics,
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
const DEPOTS = ['BER', 'HAM', 'MUC', 'CGN', 'FRA', 'STR', 'LEJ'];
// The design's client gets the full run; the second adapter a smaller one (same kills, same
// assertions) to keep the suite's time down.
const COUNTS: Record<StreamsClientKind, number> = { kafkajs: 24_000, platformatic: 12_000 };
const KILLS = 3;

function start(args: string[]): ChildProcess {
  return spawn(
    `${repoRoot}/node_modules/.bin/node`,
    [`${repoRoot}/test/support/run-depot-totals.ts`, ...args],
    {
      cwd: repoRoot,
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

const results = new Map<string, { expected: number; actual: number; seconds: number }>();

const CASES = STREAMS_CLIENT_KINDS.flatMap((kind) =>
  (['exactly-once', 'at-least-once'] as const).map(
    (guarantee): [StreamsClientKind, ProcessingGuarantee] => [kind, guarantee],
  ),
);

describe.each<[StreamsClientKind, ProcessingGuarantee]>(CASES)(
  'crash test on %s (%s)',
  (kind, guarantee) => {
    const COUNT = COUNTS[kind];
    let kafka: Kafka;
    let input: string;
    let output: string;
    const applicationId = uniqueName(
      `test-crash-${kind}-${guarantee === 'exactly-once' ? 'eos' : 'alo'}`,
    );
    let child: ChildProcess | undefined;

    beforeAll(async () => {
      kafka = createKafka(config, 'streams-crash');
      input = await newTopic(kafka, {
        partitions: 3,
      });
      output = await newTopic(kafka, {
        partitions: 3,
      });
    });

    afterAll(async () => {
      child?.kill('SIGKILL');
      await deleteTestTopics(kafka, depotTotalsTopics(applicationId, input, output)).catch(
        () => undefined,
      );
    });

    it(`SIGKILLed ${KILLS} times mid-stream, the totals ${guarantee === 'exactly-once' ? 'equal' : 'are at least'} the sums of the input`, async () => {
      const all: Delivery[] = Array.from({ length: COUNT }, (_, i) => ({
        parcel: `p-${i}`,
        depot: DEPOTS[i % DEPOTS.length] ?? 'BER',
        kg: (i % 9) + 1,
      }));
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let i = 0; i < all.length; i += 2_000) {
        await producer.send({
          topic: input,
          acks: -1,
          messages: all
            .slice(i, i + 2_000)
            .map((d) => ({ key: d.parcel, value: JSON.stringify(d) })),
        });
      }
      await producer.disconnect();
      const expected = new Map<string, number>();
      for (const d of all) expected.set(d.depot, (expected.get(d.depot) ?? 0) + d.kg);

      const started = performance.now();
      const args = [applicationId, input, output, guarantee, kind];
      for (let kill = 1; kill <= KILLS; kill++) {
        child = start(args);
        // Kill it without warning once it has written the next quarter of its outputs: outputs
        // go out before the input offsets are committed, so the kill often lands in between.
        const threshold = Math.floor((COUNT * kill) / (KILLS + 1));
        await waitFor(async () => (await countRecords(kafka, output)) >= threshold, {
          timeoutMs: 120_000,
          intervalMs: 20,
          maxIntervalMs: 100,
          description: `${threshold} output records written before kill ${kill}`,
        });
        child.kill('SIGKILL');
        await exited(child);
      }
      child = start(args);
      // Done when the input and the repartition topic are both consumed to their ends.
      const inputs = [input, repartitionTopic(applicationId, 'by-depot')];
      await waitFor(
        async () =>
          (await Promise.all(inputs.map((t) => inputConsumed(kafka, applicationId, t)))).every(
            Boolean,
          ),
        {
          timeoutMs: 180_000,
          intervalMs: 500,
          description: 'every input and repartition offset committed after the last restart',
        },
      );
      child.kill('SIGTERM');
      await exited(child);
      const latest = new Map<string, number>();
      for (const m of await readToEnd(kafka, output))
        latest.set(m.key?.toString() ?? '', Number(m.value?.toString()));

      const expectedSum = [...expected.values()].reduce((a, b) => a + b, 0);
      const actualSum = [...latest.values()].reduce((a, b) => a + b, 0);
      results.set(`${kind} ${guarantee} (${COUNT} records)`, {
        expected: expectedSum,
        actual: actualSum,
        seconds: (performance.now() - started) / 1000,
      });
      if (guarantee === 'exactly-once') {
        expect(Object.fromEntries(latest)).toEqual(Object.fromEntries(expected));
      } else {
        for (const [depot, kg] of expected) expect(latest.get(depot)).toBeGreaterThanOrEqual(kg);
      }
    }, 400_000);
  },
);

afterAll(() => {
  const lines = [...results].map(
    ([g, r]) =>
      `${g}: counted ${r.actual} kg of ${r.expected} kg (${r.actual - r.expected >= 0 ? '+' : ''}${r.actual - r.expected} from replays after ${KILLS} SIGKILLs) in ${r.seconds.toFixed(1)} s`,
  );
  process.stdout.write(`\ncrash test, what each guarantee did:\n  ${lines.join('\n  ')}\n`);
});

async function inputConsumed(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return ends.every(
      (end) =>
        committed?.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
    );
  } finally {
    await admin.disconnect();
  }
}
