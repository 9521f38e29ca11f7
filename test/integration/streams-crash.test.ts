// SIGKILL the process running a stateful topology, again and again, while it works through its
// input, once per Kafka client adapter. With exactly-once the totals afterwards equal the sums
// of the input — nothing lost, nothing applied twice. With at-least-once nothing is lost, but
// replays are counted again: the test reports by how much. Exactly-once runs again with stores
// on disk (LMDB), one of the stops a clean SIGTERM: the next start restores from the checkpoint
// it left, the kills after it from the changelog's beginning over a wiped disk.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
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
/** With stores on disk, this stop is a clean one (SIGTERM), which leaves checkpoints. */
const CLEAN_STOP = 2;

type StoreKind = 'memory' | 'disk';

/** The last lines each child wrote to stdout (its log), for failure messages. */
const childOutput = new WeakMap<ChildProcess, string[]>();

function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(
    `${repoRoot}/node_modules/.bin/node`,
    [`${repoRoot}/test/support/run-depot-totals.ts`, ...args],
    {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  // Read, not left in the pipe: a full pipe blocks the child's synchronous log writes, and a
  // child blocked for a session timeout loses its group membership (and with it its tasks).
  const lines: string[] = [];
  childOutput.set(child, lines);
  child.stdout?.on('data', (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    lines.splice(0, Math.max(0, lines.length - 60));
  });
  return child;
}

function outputOf(child: ChildProcess): string {
  return (childOutput.get(child) ?? []).join('\n');
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

const results = new Map<
  string,
  { expected: number; actual: number; seconds: number; stops: string }
>();

const CASES = STREAMS_CLIENT_KINDS.flatMap((kind) => [
  ...(['exactly-once', 'at-least-once'] as const).map(
    (guarantee): [StreamsClientKind, ProcessingGuarantee, StoreKind] => [kind, guarantee, 'memory'],
  ),
  [kind, 'exactly-once', 'disk'] as [StreamsClientKind, ProcessingGuarantee, StoreKind],
]);

describe.each<[StreamsClientKind, ProcessingGuarantee, StoreKind]>(CASES)(
  'crash test on %s (%s, stores in %s)',
  (kind, guarantee, stores) => {
    // Stores on disk get half the records: the kills and the assertions are the same.
    const COUNT = stores === 'disk' ? COUNTS[kind] / 2 : COUNTS[kind];
    const stateDir =
      stores === 'disk' ? mkdtempSync(nodePath.join(tmpdir(), 'continuum-crash-')) : undefined;
    const env: NodeJS.ProcessEnv = stateDir
      ? {
          ...process.env,
          CONTINUUM_STREAMS_STORES: 'disk',
          CONTINUUM_STREAMS_STATE_DIR: stateDir,
        }
      : process.env;
    let kafka: Kafka;
    let input: string;
    let output: string;
    const applicationId = uniqueName(
      `test-crash-${kind}-${guarantee === 'exactly-once' ? 'eos' : 'alo'}-${stores}`,
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
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    it(`${stateDir ? `stopped ${KILLS} times (one clean)` : `SIGKILLed ${KILLS} times`} mid-stream, the totals ${guarantee === 'exactly-once' ? 'equal' : 'are at least'} the sums of the input`, async () => {
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
        child = start(args, env);
        // Kill it without warning once it has written the next quarter of its outputs: outputs
        // go out before the input offsets are committed, so the kill often lands in between.
        const threshold = Math.floor((COUNT * kill) / (KILLS + 1));
        await waitFor(async () => (await countRecords(kafka, output)) >= threshold, {
          timeoutMs: 120_000,
          intervalMs: 20,
          maxIntervalMs: 100,
          description: `${threshold} output records written before kill ${kill}`,
        });
        if (stateDir && kill === CLEAN_STOP) {
          // Every task of this instance has committed once (so each has a store to checkpoint):
          // on each partition, the input or the repartition topic moved on, or both are done.
          const topics = [input, repartitionTopic(applicationId, 'by-depot')];
          const positions = () =>
            Promise.all(topics.map((t) => committedAndEnds(kafka, applicationId, t)));
          const before = await positions();
          await waitFor(
            async () => {
              const now = await positions();
              return [0, 1, 2].every(
                (p) =>
                  now.some((topic, i) => {
                    const at = topic.get(p);
                    return at !== undefined && at.committed > (before[i]?.get(p)?.committed ?? -1n);
                  }) || now.every((topic) => topic.get(p)?.committed === topic.get(p)?.end),
              );
            },
            { timeoutMs: 120_000, description: 'every task committed once' },
          );
          // And this child holds its tasks: with a fast runtime the previous one may have consumed
          // everything already (the wait above then holds at once), and a SIGTERM before the
          // group's assignment would leave the child no task to commit and checkpoint.
          const running = child;
          await waitFor(() => outputOf(running).includes('tasks '), {
            timeoutMs: 120_000,
            description: 'the child to hold its tasks',
          });
          child.kill('SIGTERM');
          await exited(child);
          // Every task committed and checkpointed its stores on the way out.
          const checkpoints = readdirSync(
            nodePath.join(stateDir, applicationId, 'checkpoints'),
          ).sort();
          if (checkpoints.length !== 3) process.stderr.write(`${outputOf(child)}\n`);
          expect(checkpoints).toEqual(['0.json', '1.json', '2.json']);
          continue;
        }
        child.kill('SIGKILL');
        await exited(child);
      }
      child = start(args, env);
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
      results.set(`${kind} ${guarantee}, stores in ${stores} (${COUNT} records)`, {
        expected: expectedSum,
        actual: actualSum,
        seconds: (performance.now() - started) / 1000,
        stops: stateDir ? `${KILLS - 1} SIGKILLs and a SIGTERM` : `${KILLS} SIGKILLs`,
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
      `${g}: counted ${r.actual} kg of ${r.expected} kg (${r.actual - r.expected >= 0 ? '+' : ''}${r.actual - r.expected} from replays after ${r.stops}) in ${r.seconds.toFixed(1)} s`,
  );
  process.stdout.write(`\ncrash test, what each guarantee did:\n  ${lines.join('\n  ')}\n`);
});

/** The group's committed offset and the end, per partition of `topic` (committed -1: none). */
async function committedAndEnds(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, { committed: bigint; end: bigint }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return new Map(
      ends.map((e) => [
        e.partition,
        {
          committed: BigInt(
            committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1',
          ),
          end: BigInt(e.high),
        },
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

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
