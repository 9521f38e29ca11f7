// `continuum lag` as a long-running exporter (compose's `lag` service): /ready says whether it
// can measure. Started while Kafka is away it stays up, serving /healthz and a 503 /ready that
// names the error, instead of exiting; on the real broker it is ready and says what it measured.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { repoRoot } from '../../core/paths.ts';
import { waitFor } from '../../core/wait-for.ts';
import { freePort } from '../support/free-port.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);

interface ReadyBody {
  status: string;
  error?: string;
  groups?: number;
  partitions?: number;
}

async function startExporter(
  groupPrefix: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    `${repoRoot}/node_modules/.bin/node`,
    [
      `${repoRoot}/bin/continuum.js`,
      'lag',
      '--group-prefix',
      groupPrefix,
      '--metrics-port',
      String(port),
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, CONTINUUM_LOG_LEVEL: 'warn', ...env },
      stdio: 'ignore',
    },
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

async function ready(url: string): Promise<{ status: number; body: ReadyBody } | undefined> {
  try {
    const res = await fetch(`${url}/ready`);
    return { status: res.status, body: (await res.json()) as ReadyBody };
  } catch {
    return undefined; // not listening yet
  }
}

describe('continuum lag /ready', () => {
  const children: ChildProcess[] = [];
  let kafka: Kafka;
  const topics: string[] = [];

  beforeAll(() => {
    kafka = createKafka(config, 'lag-exporter');
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await deleteTestTopics(kafka, topics);
  });

  it('stays up while Kafka is unreachable, with a 503 /ready naming the error', async () => {
    // Nothing listens there: every connection is refused.
    const broker = `127.0.0.1:${await freePort()}`;
    const { child, url } = await startExporter('continuum', { CONTINUUM_KAFKA_BROKERS: broker });
    children.push(child);
    const outage = await waitFor(
      async () => {
        const answer = await ready(url);
        return answer?.body.error ? answer : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: '/ready reporting the connection error' },
    );
    expect(outage.status).toBe(503);
    expect(outage.body.status).toBe('not ready');
    expect(outage.body.error).toMatch(/connect/i);
    // Still serving: it did not exit on the failed connect.
    expect(child.exitCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('is ready on the broker, with the groups and partitions it measured', async () => {
    const prefix = uniqueName('lag-ready');
    const topic = await createTestTopic(kafka, { partitions: 2 });
    topics.push(topic);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.setOffsets({
        groupId: `${prefix}-group`,
        topic,
        partitions: [
          { partition: 0, offset: '0' },
          { partition: 1, offset: '0' },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    const { child, url } = await startExporter(prefix);
    children.push(child);
    const answer = await waitFor(
      async () => {
        const a = await ready(url);
        return a?.status === 200 ? a : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, description: '/ready 200' },
    );
    expect(answer.body).toMatchObject({ status: 'ready', groups: 1, partitions: 2 });
  }, 90_000);
});
