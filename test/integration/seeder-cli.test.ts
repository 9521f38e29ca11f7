// `continuum seed` end to end on the real stack: a tiny bounded run through the command writes
// shipments into a random PostgreSQL schema and every telemetry record into a random topic.
import { spawn } from 'node:child_process';
import pg from 'pg';
import type { Kafka } from 'kafkajs';
import { seedCommand } from '../../cli/commands/seed.ts';
import { loadConfig } from '../../core/config.ts';
import { repoRoot } from '../../core/paths.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createLogger } from '../../core/logger.ts';
import { createSchemaRegistry, valueSubject } from '../../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
import {
  countRecords,
  createKafka,
  createTestTopic,
  deleteTestTopics,
  waitForMessages,
} from '../support/kafka.ts';
import { freePort } from '../support/free-port.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const TIMEOUT_MS = 90_000;

/** The producer registered the topic's value subject; delete it for good (soft, then permanent). */
async function deleteSubject(subject: string): Promise<void> {
  for (const query of ['', '?permanent=true']) {
    const url = `${config.schemaRegistry.url}/subjects/${encodeURIComponent(subject)}${query}`;
    const response = await fetch(url, { method: 'DELETE' });
    if (!response.ok && response.status !== 404)
      throw new Error(`DELETE ${url}: ${response.status} ${await response.text()}`);
  }
}

describe('continuum seed', () => {
  let kafka: Kafka;
  let pool: pg.Pool;
  const topics: string[] = [];
  const schema = uniqueName('test_seed_cli', '_');

  beforeAll(() => {
    kafka = createKafka(config, 'seeder-cli');
    pool = new pg.Pool({ connectionString: config.postgres.url, max: 1 });
  });

  afterAll(async () => {
    await deleteTestTopics(kafka, topics);
    for (const topic of topics) await deleteSubject(valueSubject(topic));
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  }, TIMEOUT_MS);

  test(
    'a bounded run: rows in PostgreSQL, every event and malformed payload on the topic, statistics printed',
    async () => {
      const topic = await createTestTopic(kafka, { partitions: 2 });
      topics.push(topic);
      const out: string[] = [];
      let exitCode = 0;
      const command = seedCommand({
        config: () => config,
        log: () => createLogger('silent'),
        out: (text) => out.push(text),
        setExitCode: (code) => {
          exitCode = code;
        },
      });
      await command.parseAsync(
        [
          '--seed',
          '77',
          '--shipments',
          '5',
          '--vehicles',
          '3',
          '--duration',
          '12h',
          '--telemetry-interval',
          '5m',
          '--fault-malformed',
          '0.05',
          '--fault-duplicate',
          '0.05',
          '--schema',
          schema,
          '--topic',
          topic,
          '--json',
        ],
        { from: 'user' },
      );
      expect(exitCode).toBe(0);
      const stats = JSON.parse(out.join('\n')) as {
        seed: number;
        shipmentsCreated: number;
        telemetrySent: number;
        rawSent: number;
        faults: Record<string, number>;
      };
      expect(stats.seed).toBe(77);
      expect(stats.shipmentsCreated).toBe(5);
      expect(stats.rawSent).toBeGreaterThan(0);

      const rows = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.shipments`);
      expect(Number(rows.rows[0]?.n)).toBe(5);
      expect(await countRecords(kafka, topic)).toBe(stats.telemetrySent + stats.rawSent);

      // The events decode with the registry; the raw ones do not, as intended.
      const messages = await waitForMessages(kafka, topic, {
        count: stats.telemetrySent + stats.rawSent,
      });
      const registry = createSchemaRegistry(config);
      let decoded = 0;
      let undecodable = 0;
      for (const m of messages) {
        try {
          const event = (await registry.decode(m.value as Buffer)) as VehicleTelemetry;
          expect(m.key?.toString()).toBe(event.vehicleId);
          decoded += 1;
        } catch {
          undecodable += 1;
        }
      }
      expect(decoded).toBe(stats.telemetrySent);
      expect(undecodable).toBe(stats.rawSent);
    },
    TIMEOUT_MS,
  );

  test(
    "a URL without the server's password: the cause and the next step, not only what failed",
    async () => {
      const url = new URL(config.postgres.url);
      url.password = '';
      const out: string[] = [];
      let exitCode = 0;
      const command = seedCommand({
        config: () => ({ ...config, postgres: { url: url.toString() } }),
        log: () => createLogger('silent'),
        out: (text) => out.push(text),
        setExitCode: (code) => {
          exitCode = code;
        },
      });
      await command.parseAsync(['--shipments', '1', '--vehicles', '1', '--schema', schema], {
        from: 'user',
      });
      expect(exitCode).not.toBe(0);
      const said = out.join('\n');
      // The real server's SCRAM exchange refuses a missing password.
      expect(said).toMatch(/^seed failed: .*client password must be a string/m);
      expect(said).toMatch(/^ {2}next: PostgreSQL asks for a password/m);
    },
    TIMEOUT_MS,
  );

  test(
    'a live run answers /ready with each dependency it probed, and stops on SIGTERM',
    async () => {
      const topic = await createTestTopic(kafka, { partitions: 1 });
      topics.push(topic);
      const port = await freePort();
      const child = spawn(
        `${repoRoot}/node_modules/.bin/node`,
        [
          `${repoRoot}/bin/continuum.js`,
          'seed',
          '--rate',
          '5',
          '--vehicles',
          '2',
          '--schema',
          schema,
          '--topic',
          topic,
        ],
        {
          cwd: repoRoot,
          env: { ...process.env, CONTINUUM_SEED_METRICS_PORT: String(port) },
          stdio: ['ignore', 'ignore', 'ignore'],
        },
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      try {
        const readiness = await waitFor(
          async () => {
            const res = await fetch(`http://127.0.0.1:${port}/ready`);
            return res.status === 200 ? ((await res.json()) as unknown) : undefined;
          },
          { timeoutMs: 60_000, description: 'continuum seed /ready answering 200' },
        );
        expect(readiness).toMatchObject({
          status: 'ready',
          dependencies: [
            { name: 'postgres', ok: true },
            { name: 'kafka', ok: true },
            { name: 'schema-registry', ok: true },
          ],
        });
      } finally {
        child.kill('SIGTERM');
      }
      // Stopped cleanly by the signal (a live run has no end of its own).
      expect(await exited).toBe(0);
    },
    TIMEOUT_MS,
  );
});
