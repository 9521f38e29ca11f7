// Builds a Go command of one exact module version from the Go module proxy into the cache.
// The proxy lists no versions for the exporters' modules, so `go install module@version` is
// refused; requiring the version from an empty scratch module, then installing the command
// from there, resolves it (../shared/INFRA.md).
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { runCommand } from './run-command.ts';

export interface GoCommand {
  /** Module path, e.g. github.com/oliver006/redis_exporter */
  module: string;
  version: string;
  /** Package of the command inside the module (the module itself when omitted). */
  pkg?: string;
  /** Name of the binary `go install` writes. */
  binary: string;
}

/** Where the command's binary is, once built into `dir`. */
export function goCommandBinary(dir: string, command: GoCommand): string {
  return nodePath.join(dir, 'bin', command.binary);
}

/** Builds the command into `<dir>/bin` unless it is there already; returns the binary's path. */
export async function goInstallPinned(
  dir: string,
  command: GoCommand,
  onBuild: () => void = () => undefined,
): Promise<string> {
  const binary = goCommandBinary(dir, command);
  if (existsSync(binary)) return binary;
  onBuild();
  const scratch = nodePath.join(dir, 'scratch');
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  await writeFile(nodePath.join(scratch, 'go.mod'), 'module continuum.local/scratch\n\ngo 1.23\n');
  // -mod=mod: the scratch module has no go.sum yet; `go get` writes it from the checksum database.
  const env = { GOFLAGS: '-mod=mod', GOBIN: nodePath.join(dir, 'bin.partial') };
  await runCommand('go', ['get', `${command.module}@${command.version}`], { cwd: scratch, env });
  await runCommand('go', ['install', command.pkg ?? command.module], { cwd: scratch, env });
  await rm(nodePath.join(dir, 'bin'), { recursive: true, force: true });
  await runCommand('mv', [env.GOBIN, nodePath.join(dir, 'bin')]);
  await rm(scratch, { recursive: true, force: true });
  return binary;
}
