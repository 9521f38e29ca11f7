// Starts a service as a detached background process that outlives the CLI, and finds it again
// through its pid file. One folder per service under the stack's state dir: pid, log, data.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { waitFor } from '../../core/wait-for.ts';

export interface LaunchSpec {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** Run as this user (root may drop privileges, e.g. PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
}

export interface ServicePaths {
  dir: string;
  pidFile: string;
  logFile: string;
}

export function launchDetached(spec: LaunchSpec, paths: ServicePaths): number {
  const log = openSync(paths.logFile, 'a');
  try {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', log, log],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    writeFileSync(paths.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export function readPid(paths: ServicePaths): number | undefined {
  if (!existsSync(paths.pidFile)) return undefined;
  const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** SIGTERM the process group, then SIGKILL it if it has not exited in time. */
export async function stopProcess(pid: number, graceMs = 20_000): Promise<'stopped' | 'killed'> {
  signalGroup(pid, 'SIGTERM');
  try {
    await waitFor(() => !isAlive(pid), {
      timeoutMs: graceMs,
      description: `pid ${pid} to exit`,
      intervalMs: 100,
    });
    return 'stopped';
  } catch {
    signalGroup(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), {
      timeoutMs: 5_000,
      description: `pid ${pid} to die`,
      intervalMs: 50,
    });
    return 'killed';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function clearPid(paths: ServicePaths): void {
  rmSync(paths.pidFile, { force: true });
}

/** The last `lines` lines of a log file, for error reports. */
export async function tailFile(file: string, lines = 30): Promise<string> {
  if (!existsSync(file)) return '';
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } finally {
    await handle.close();
  }
}

export async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}
