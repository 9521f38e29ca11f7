// The native stack's lifecycle on its own state dir and ports (Redis and Prometheus, the quick
// ones), so it never disturbs the stack the other tests use: up, status, a process killed by
// hand shows as stopped, the next up restarts it and reuses the healthy one, down stops both.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { NativeStack } from '../../compose/native/native-stack.ts';
import { isAlive } from '../../compose/native/process-supervisor.ts';
import { prometheusService } from '../../compose/native/services/prometheus.ts';
import { redisService } from '../../compose/native/services/redis.ts';
import { freePort } from '../support/free-port.ts';

describe('native stack lifecycle', () => {
  let stateDir: string;
  let stack: NativeStack;

  beforeAll(async () => {
    stateDir = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-stack-test-'));
    const config = loadConfig({
      ...process.env,
      CONTINUUM_STATE_DIR: stateDir,
      CONTINUUM_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      CONTINUUM_PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}`,
      CONTINUUM_STACK_START_TIMEOUT_MS: '60000',
    });
    stack = new NativeStack(config, createLogger('warn'), [redisService, prometheusService]);
  });

  afterAll(async () => {
    await stack.down();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('starts, reports, restarts what was killed, reuses what is healthy, and stops', async () => {
    const first = await stack.up({ progress: false });
    expect(first.failed).toEqual([]);
    expect(first.started.sort()).toEqual(['prometheus', 'redis']);
    const running = await stack.status();
    expect(running.map((s) => [s.name, s.state])).toEqual([
      ['redis', 'running'],
      ['prometheus', 'running'],
    ]);
    expect(running.find((s) => s.name === 'redis')?.version).toMatch(/^7\./);

    const redisPid = running.find((s) => s.name === 'redis')?.pid ?? 0;
    process.kill(redisPid, 'SIGKILL');
    await waitFor(() => !isAlive(redisPid), { timeoutMs: 10_000, description: 'redis to die' });
    const afterKill = await stack.status();
    expect(afterKill.find((s) => s.name === 'redis')?.state).toBe('stopped');
    expect(afterKill.find((s) => s.name === 'prometheus')?.state).toBe('running');

    const second = await stack.up({ progress: false });
    expect(second.started).toEqual(['redis']);
    expect(second.reused).toEqual(['prometheus']);
    const restarted = await stack.status();
    expect(restarted.every((s) => s.state === 'running')).toBe(true);
    expect(restarted.find((s) => s.name === 'redis')?.pid).not.toBe(redisPid);

    const down = await stack.down();
    expect(down.map((d) => d.result).every((r) => r === 'stopped')).toBe(true);
    expect((await stack.status()).map((s) => s.state)).toEqual(['stopped', 'stopped']);
  }, 120_000);
});
