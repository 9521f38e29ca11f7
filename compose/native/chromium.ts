// Chromium for the browser tests: Debian's package (never a browser download), driven by
// playwright-core, whose release must target the same major version. Installed with apt when
// missing, like the stack's other prerequisites.
import { existsSync, readFileSync } from 'node:fs';
import nodePath from 'node:path';
import { PrerequisiteError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { repoRoot } from '../../core/paths.ts';
import { runCommand, tryCommand } from './run-command.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags these machines need (no sandbox as root, no GPU, nothing fetched in the background). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** The installed Chromium's major version, from `chromium --version`. */
export async function chromiumMajor(path = CHROMIUM_PATH): Promise<number | undefined> {
  const version = await tryCommand(path, ['--version']);
  const major = /Chromium (\d+)\./.exec(version ?? '')?.[1];
  return major === undefined ? undefined : Number(major);
}

/** The Chromium major version the installed playwright-core was built against. */
export function playwrightChromiumMajor(): number {
  const browsers = JSON.parse(
    readFileSync(
      nodePath.join(repoRoot, 'node_modules', 'playwright-core', 'browsers.json'),
      'utf8',
    ),
  ) as { browsers: { name: string; browserVersion?: string }[] };
  const chromium = browsers.browsers.find((b) => b.name === 'chromium');
  return Number(chromium?.browserVersion?.split('.')[0]);
}

/** Installs Debian's chromium when it is missing (as root); returns its path. */
export async function ensureChromium(log: Logger): Promise<string> {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const command = 'apt-get update && apt-get install -y --no-install-recommends chromium';
  if (process.getuid?.() !== 0 || (await tryCommand('apt-get', ['--version'])) === undefined)
    throw new PrerequisiteError(
      'Chromium is needed for the browser tests',
      `sudo sh -c '${command}'`,
    );
  log.info('installing Debian chromium for the browser tests');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand('apt-get', ['update', '-q'], { env });
  await runCommand('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'chromium'], {
    env,
  });
  if (!existsSync(CHROMIUM_PATH))
    throw new PrerequisiteError(
      `apt-get installed chromium, but ${CHROMIUM_PATH} is missing`,
      command,
    );
  return CHROMIUM_PATH;
}
