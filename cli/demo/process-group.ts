// The demo's child processes: each a `continuum` subcommand on this Node, its output in a log
// file, stopped newest first with SIGTERM (SIGKILL after a grace period), and any unexpected
// exit reported so the demo stops instead of running half a pipeline.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContinuumError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

const CLI = fileURLToPath(new URL('../../bin/continuum.js', import.meta.url));

export class ChildExitedError extends ContinuumError {
  override readonly code = 'CHILD_EXITED';
}

interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

export class ProcessGroup {
  private readonly children: Child[] = [];
  private readonly logDir: string;
  private readonly log: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private stopping = false;
  private failure: ((error: ChildExitedError) => void) | undefined;
  /** Rejects when a child exits on its own (not by stop()). */
  readonly failed: Promise<never>;

  constructor(options: { logDir: string; log: Logger; env?: NodeJS.ProcessEnv }) {
    this.logDir = options.logDir;
    this.log = options.log.child({ component: 'demo' });
    this.env = options.env ?? process.env;
    this.failed = new Promise<never>((_, reject) => (this.failure = reject));
    // Nobody may be listening yet; the rejection is read through `failed`.
    this.failed.catch(() => undefined);
  }

  /** Starts `continuum <args>`; its stdout and stderr go to `<logDir>/<name>.log`. */
  async start(name: string, args: readonly string[]): Promise<void> {
    await mkdir(this.logDir, { recursive: true });
    const logFile = nodePath.join(this.logDir, `${name}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(process.execPath, [CLI, ...args], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, signal) => {
        out.end();
        if (!this.stopping) {
          const error = new ChildExitedError(
            `${name} exited (${signal ?? `code ${code}`}); its log: ${logFile}`,
            { context: { name, code, signal, logFile } },
          );
          this.log.error({ child: name, code, signal, logFile }, 'demo process exited');
          this.failure?.(error);
        }
        resolve(code);
      }),
    );
    this.children.push({ name, process: child, logFile, exited });
    this.log.info({ child: name, pid: child.pid, args, logFile }, 'demo process started');
  }

  /**
   * From now on exits are expected: on Ctrl-C a terminal signals the whole process group, so the
   * children stop on their own while the demo is stopping them.
   */
  expectExits(): void {
    this.stopping = true;
  }

  get logFiles(): { name: string; logFile: string }[] {
    return this.children.map(({ name, logFile }) => ({ name, logFile }));
  }

  /** Stops every child, newest first, each with SIGTERM and then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    this.expectExits();
    for (const child of [...this.children].reverse()) {
      if (child.process.exitCode !== null || child.process.signalCode !== null) continue;
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
      await child.exited;
      clearTimeout(timer);
      this.log.info({ child: child.name }, 'demo process stopped');
    }
  }
}
