// `continuum demo` (what `npm start` runs) as a user runs it: the whole pipeline comes up as
// child processes, a live simulated fleet reaches Redis and PostgreSQL through CDC and the
// stream processors, and Ctrl-C stops everything cleanly. It works on the platform's own topic
// names and tables (a fresh start empties the materialized state first).
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../core/config.ts';
import { waitFor } from '../../core/wait-for.ts';

const config = loadConfig(process.env);
const CLI = fileURLToPath(new URL('../../bin/continuum.js', import.meta.url));
/** Where the demo writes each process's log (ProcessGroup's logDir). */
const LOG_DIR = nodePath.join(config.stateDir, 'demo');

/** The last lines of each process's log file. */
async function logTails(lines = 25): Promise<string> {
  const files = (await readdir(LOG_DIR).catch(() => [])).filter((f) => f.endsWith('.log'));
  const tails = await Promise.all(
    files.map(async (file) => {
      const text = await readFile(nodePath.join(LOG_DIR, file), 'utf8');
      return `--- ${file}:\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
    }),
  );
  return tails.join('\n');
}

describe('continuum demo', () => {
  it('runs seed → CDC → streams → sinks until Ctrl-C, then stops every process', async () => {
    const demo = spawn(process.execPath, [CLI, 'demo', '--rate', '80', '--vehicles', '10'], {
      env: { ...process.env, CONTINUUM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.on('exit', resolve));
    // A demo that stops on its own (one of its processes failed) ends every wait at once.
    const stoppedEarly = new AbortController();
    void exited.then((code) =>
      stoppedEarly.abort(new Error(`the demo exited early (code ${code})`)),
    );
    const redis = new Redis(config.redis.url);
    const pool = new pg.Pool({ connectionString: config.postgres.url, max: 1 });
    try {
      await waitFor(() => output.includes('demo running'), {
        signal: stoppedEarly.signal,
        timeoutMs: 120_000,
        description: `the demo to start; output so far:\n${output}`,
      });
      // A shipment assigned to a vehicle that reports: joined state in both stores.
      await waitFor(
        async () => {
          const table = await pool.query<{ t: string | null }>(
            "SELECT to_regclass('public.shipment_state') AS t",
          );
          if (!table.rows[0]?.t) return false;
          const rows = await pool.query<{ n: string }>(
            "SELECT count(*) AS n FROM public.shipment_state WHERE vehicle_id IS NOT NULL AND lat IS NOT NULL AND status <> 'CREATED'",
          );
          return Number(rows.rows[0]?.n ?? 0) > 0 && (await redis.zcard('shipments:geo')) > 0;
        },
        {
          signal: stoppedEarly.signal,
          timeoutMs: 180_000,
          intervalMs: 1_000,
          description: 'joined shipment state in PostgreSQL and Redis',
        },
      ).catch(async (err: unknown) => {
        // What the demo and each of its processes said, to tell which stage held it up.
        throw new Error(
          `${(err as Error).message}; the demo's output:\n${output}\n${await logTails()}`,
          { cause: err },
        );
      });
      const [id] = (
        await pool.query<{ shipment_id: string }>(
          "SELECT shipment_id FROM public.shipment_state WHERE lat IS NOT NULL AND status <> 'CREATED' LIMIT 1",
        )
      ).rows.map((r) => r.shipment_id);
      const hash = await redis.hgetall(`shipment:${id ?? ''}`);
      expect(hash.shipmentId).toBe(id);
      expect(hash.vehicleId).toMatch(/\S/);
    } finally {
      demo.kill('SIGINT');
      await redis.quit();
      await pool.end();
    }
    expect(await exited).toBe(0);
    expect(output).toContain('demo stopped (SIGINT)');
  }, 360_000);
});
