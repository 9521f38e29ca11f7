// Schemathesis (the OpenAPI schema fuzzer, from PyPI) in a virtualenv cached under
// CONTINUUM_CACHE_DIR, installed on first use the way the native stack installs MLflow, so a
// fresh machine gets it from the project's own files.
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import type { Config } from '../../../core/config.ts';
import { runCommand } from '../../../compose/native/run-command.ts';

export const SCHEMATHESIS_VERSION = '4.32.5';

/** The schemathesis executable, installed when missing. */
export async function ensureSchemathesis(config: Config): Promise<string> {
  const dir = nodePath.join(config.cacheDir, `schemathesis-${SCHEMATHESIS_VERSION}`, 'venv');
  const bin = nodePath.join(dir, 'bin', 'schemathesis');
  const marker = nodePath.join(dir, '.complete');
  if (existsSync(marker)) return bin;
  await rm(dir, { recursive: true, force: true });
  await runCommand('python3', ['-m', 'venv', dir]);
  await runCommand(nodePath.join(dir, 'bin', 'pip'), [
    'install',
    '--disable-pip-version-check',
    '--quiet',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
  await writeFile(marker, new Date().toISOString());
  return bin;
}
