import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { waitFor } from '../../core/wait-for.ts';
import { isAlive, launchDetached, readPid, stopProcess, tailFile } from './process-supervisor.ts';

describe('process supervisor', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-supervisor-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const paths = (): { dir: string; pidFile: string; logFile: string } => ({
    dir,
    pidFile: nodePath.join(dir, 'pid'),
    logFile: nodePath.join(dir, 'service.log'),
  });

  it('launches a detached process, records its pid and log, and stops it with SIGTERM', async () => {
    const pid = launchDetached(
      { command: 'sh', args: ['-c', 'echo started; exec sleep 60'] },
      paths(),
    );
    expect(readPid(paths())).toBe(pid);
    expect(isAlive(pid)).toBe(true);
    await waitFor(async () => (await readFile(paths().logFile, 'utf8')).includes('started'), {
      timeoutMs: 5_000,
      description: 'log line',
    });
    expect(await stopProcess(pid)).toBe('stopped');
    expect(isAlive(pid)).toBe(false);
  });

  it('kills a process that ignores SIGTERM after the grace period', async () => {
    const pid = launchDetached(
      { command: 'sh', args: ['-c', "trap '' TERM; echo ready; while true; do sleep 0.1; done"] },
      paths(),
    );
    await waitFor(async () => (await readFile(paths().logFile, 'utf8')).includes('ready'), {
      timeoutMs: 5_000,
      description: 'trap set',
    });
    expect(await stopProcess(pid, 300)).toBe('killed');
    expect(isAlive(pid)).toBe(false);
  });

  it('tails the last lines of a log', async () => {
    const pid = launchDetached(
      { command: 'sh', args: ['-c', 'for i in 1 2 3 4 5; do echo line$i; done'] },
      paths(),
    );
    await waitFor(() => !isAlive(pid), { timeoutMs: 5_000, description: 'exit' });
    expect(await tailFile(paths().logFile, 2)).toBe('line4\nline5');
  });
});
