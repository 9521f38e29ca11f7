// Runs an install-time command to completion, keeping its output for the error report.
import { spawn } from 'node:child_process';
import { ContinuumError } from '../../core/errors.ts';

export class CommandFailedError extends ContinuumError {
  override readonly code = 'COMMAND_FAILED';
  readonly output: string;

  constructor(command: string, exitCode: number | null, output: string) {
    super(
      `\`${command}\` exited with ${exitCode ?? 'a signal'}:\n${output.split('\n').slice(-25).join('\n')}`,
      {
        context: { command, exitCode },
      },
    );
    this.output = output;
  }
}

export interface RunOptions {
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  uid?: number;
  gid?: number;
  /** Called with each chunk of output, e.g. to show progress. */
  onOutput?: (chunk: string) => void;
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-256 * 1024);
      options.onOutput?.(text);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) =>
      reject(new CommandFailedError(`${command} ${args.join(' ')}`, null, String(err))),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new CommandFailedError(`${command} ${args.join(' ')}`, code, output));
    });
  });
}

/** The command's output, or undefined when it cannot run or fails. */
export async function tryCommand(
  command: string,
  args: readonly string[],
): Promise<string | undefined> {
  try {
    return await runCommand(command, args);
  } catch {
    return undefined;
  }
}
