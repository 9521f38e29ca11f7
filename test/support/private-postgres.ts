// A PostgreSQL of a scenario's own, started by the stack's own code (the native stack's
// `postgres` service) beside the test stack: its own state folder, port and password, so it can
// be restarted under load without touching what every other test file uses.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { loadConfig, type Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { NativeStack } from '../../compose/native/native-stack.ts';
import { servicePaths } from '../../compose/native/native-service.ts';
import { readPid, stopProcess } from '../../compose/native/process-supervisor.ts';
import { postgresService } from '../../compose/native/services/postgres.ts';

/**
 * Below the kernel's ephemeral range (32768–60999): 35432 was once some client connection's
 * local port when the server started, and it could not listen ("Address already in use").
 */
const PORT = 25432;

export interface PrivatePostgres {
  /** The test stack's configuration with this PostgreSQL as its system of record and view. */
  config: Config;
  /** Stops the server (its process group SIGTERMed: sessions end, then the postmaster). */
  down(): Promise<void>;
  /** Starts it again and waits until it answers. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivatePostgres(log: Logger): Promise<PrivatePostgres> {
  const stateDir = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-private-postgres-'));
  const password = randomBytes(18).toString('base64url');
  const url = `postgres://continuum:${password}@127.0.0.1:${PORT}/continuum`;
  const serverConfig = loadConfig({
    ...process.env,
    CONTINUUM_STATE_DIR: stateDir,
    CONTINUUM_POSTGRES_URL: url,
  });
  const stack = new NativeStack(serverConfig, log, [postgresService]);
  const up = async (): Promise<void> => {
    const result = await stack.up({ progress: false });
    if (result.failed.length > 0)
      throw new Error(
        `the private PostgreSQL did not start: ${result.failed.map((f) => `${f.message}\n${f.logTail ?? ''}`).join('\n')}`,
      );
  };
  await up();
  return {
    config: loadConfig({ ...process.env, CONTINUUM_POSTGRES_URL: url }),
    async down() {
      const pid = readPid(servicePaths(serverConfig, 'postgres'));
      if (pid === undefined) throw new Error('the private PostgreSQL is not running');
      await stopProcess(pid, 20_000);
    },
    up,
    async stop() {
      await stack.down();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
