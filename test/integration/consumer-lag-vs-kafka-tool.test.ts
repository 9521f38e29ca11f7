// `continuum lag` (the CLI, as an operator runs it) against Kafka's own
// `kafka-consumer-groups --describe` on the same groups: the same partitions, committed offsets,
// end offsets and lag — including a transactional topic, whose end is one past the last record
// (the commit marker: Kafka's tool shows a caught-up partition's lag as 1, ours as 0), and
// partitions a group never committed (left out by both).
import { spawn } from 'node:child_process';
import type { Admin, Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { repoRoot } from '../../core/paths.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { describeConsumerGroups } from '../support/kafka-consumer-groups.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);

/** Runs `continuum <args>` and returns its output. */
async function continuum(args: readonly string[]): Promise<string> {
  const child = spawn(
    `${repoRoot}/node_modules/.bin/node`,
    [`${repoRoot}/bin/continuum.js`, ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, CONTINUUM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`continuum ${args.join(' ')} exited ${code}:\n${output}`);
  return output;
}

interface LagRow {
  group: string;
  topic: string;
  partition: number;
  committed: number;
  end: number;
  lag: number;
}

function parseLagTable(output: string): LagRow[] {
  const lines = output.split('\n').map((l) => l.trim().split(/\s+/));
  const header = lines.findIndex((l) => l[0] === 'GROUP' && l.includes('LAG'));
  expect(header).toBeGreaterThanOrEqual(0);
  return lines
    .slice(header + 1)
    .filter((l) => l.length === 6 && /^\d+$/.test(l[2] ?? ''))
    .map(([group, topic, partition, committed, end, lag]) => ({
      group: group ?? '',
      topic: topic ?? '',
      partition: Number(partition),
      committed: Number(committed),
      end: Number(end),
      lag: Number(lag),
    }));
}

const byKey = (a: LagRow, b: LagRow): number =>
  a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition;

describe('continuum lag agrees with kafka-consumer-groups --describe (but for commit markers)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let plain: string;
  let transactional: string;
  const prefix = uniqueName('test-lagtool');
  const groups = [`${prefix}-a`, `${prefix}-b`];

  beforeAll(async () => {
    kafka = createKafka(config, 'lag-vs-tool');
    admin = kafka.admin();
    await admin.connect();
    plain = await createTestTopic(admin, { partitions: 3 });
    transactional = await createTestTopic(admin, { partitions: 2 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: plain,
      messages: [0, 1, 2].flatMap((partition) =>
        Array.from({ length: 5 + partition * 3 }, (_, i) => ({ partition, value: `v${i}` })),
      ),
    });
    await producer.disconnect();
    const txProducer = kafka.producer({
      transactionalId: uniqueName('test-lagtool-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await txProducer.connect();
    const tx = await txProducer.transaction();
    await tx.send({
      topic: transactional,
      messages: [0, 1].flatMap((partition) =>
        Array.from({ length: 4 }, (_, i) => ({ partition, value: `t${i}` })),
      ),
    });
    await tx.commit();
    await txProducer.disconnect();
    // Group a: behind on every partition of the plain topic; caught up with the transactional
    // topic's last record (the tools then see the commit marker as a lag of 1).
    await admin.setOffsets({
      groupId: groups[0] as string,
      topic: plain,
      partitions: [
        { partition: 0, offset: '1' },
        { partition: 1, offset: '8' },
        { partition: 2, offset: '3' },
      ],
    });
    await admin.setOffsets({
      groupId: groups[0] as string,
      topic: transactional,
      partitions: [
        { partition: 0, offset: '4' },
        { partition: 1, offset: '2' },
      ],
    });
    // Group b: one partition only (the others it never committed).
    await admin.setOffsets({
      groupId: groups[1] as string,
      topic: plain,
      partitions: [{ partition: 2, offset: '11' }],
    });
  });

  afterAll(async () => {
    await admin.deleteGroups(groups).catch(() => undefined);
    await deleteTestTopics(admin, [plain, transactional]);
    await admin.disconnect();
  });

  it('on every partition both report, with the same offsets and lag', async () => {
    const ours = parseLagTable(await continuum(['lag', '--once', '--group-prefix', prefix]));
    // The tool now and then leaves a group out (a CI run here had group b's one row missing,
    // with no error in the output): asked again until it describes every committed partition
    // the fixture set up (group a on 5, group b on 1).
    const theirs = await waitFor(
      async () => {
        const rows = await describeConsumerGroups(config, groups);
        const committed = (g: string): number =>
          rows.filter((r) => r.group === g && r.currentOffset !== null).length;
        return committed(groups[0] as string) === 5 && committed(groups[1] as string) === 1
          ? rows
          : undefined;
      },
      { timeoutMs: 60_000, description: 'kafka-consumer-groups describing both groups' },
    );
    const kafkas: LagRow[] = theirs
      .filter((r) => r.currentOffset !== null)
      .map((r) => ({
        group: r.group,
        topic: r.topic,
        partition: r.partition,
        committed: r.currentOffset ?? 0,
        end: r.logEndOffset,
        lag: r.lag ?? 0,
      }));
    expect(ours.length).toBe(6);
    // Kafka's tool counts the commit marker behind a caught-up transactional partition as a lag
    // of 1; `continuum lag` reads what is there and shows 0. Everything else agrees.
    const expected = kafkas.map((r) =>
      r.topic === transactional && r.committed === r.end - 1 ? { ...r, lag: 0 } : r,
    );
    expect(ours.sort(byKey)).toEqual(expected.sort(byKey));
    // What the fixture set up, so an agreement on nothing cannot pass.
    expect(ours.find((r) => r.topic === transactional && r.partition === 0)).toMatchObject({
      committed: 4,
      end: 5,
      lag: 0,
    });
    expect(kafkas.find((r) => r.topic === transactional && r.partition === 0)).toMatchObject({
      committed: 4,
      end: 5,
      lag: 1,
    });
    expect(ours.find((r) => r.topic === transactional && r.partition === 1)).toMatchObject({
      committed: 2,
      end: 5,
      lag: 3,
    });
    expect(ours.filter((r) => r.group === groups[1])).toEqual([
      { group: groups[1], topic: plain, partition: 2, committed: 11, end: 11, lag: 0 },
    ]);
  });
});
