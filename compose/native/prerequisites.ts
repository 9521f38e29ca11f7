// What the machine must provide before the native stack can be installed: a JDK 17+ with
// Maven, Go, python3 with venv, and Debian's PostgreSQL 15, Redis and Prometheus. Missing
// pieces are installed with apt when we are root; otherwise the exact command is reported.
import { existsSync } from 'node:fs';
import { PrerequisiteError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { runCommand, tryCommand } from './run-command.ts';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

interface Prerequisite {
  what: string;
  /** Debian packages that provide it. */
  packages: readonly string[];
  present: () => Promise<boolean>;
}

const versionAtLeast = (text: string | undefined, pattern: RegExp, min: number[]): boolean => {
  const m = text === undefined ? null : pattern.exec(text);
  if (!m) return false;
  const parts = m.slice(1).map(Number);
  for (let i = 0; i < min.length; i++) {
    const have = parts[i] ?? 0;
    const want = min[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
};

export const PREREQUISITES: readonly Prerequisite[] = [
  {
    what: 'Java 17+',
    packages: ['openjdk-17-jre-headless'],
    present: async () =>
      versionAtLeast(await tryCommand('java', ['-version']), /version "(\d+)/, [17]),
  },
  {
    what: 'Maven',
    packages: ['maven'],
    present: async () => (await tryCommand('mvn', ['-v'])) !== undefined,
  },
  {
    what: 'python3 with venv',
    packages: ['python3-venv'],
    present: async () =>
      (await tryCommand('python3', ['-c', 'import venv, ensurepip'])) !== undefined,
  },
  {
    what: 'PostgreSQL 15 server',
    packages: ['postgresql-15'],
    present: () => Promise.resolve(existsSync(`${POSTGRES_BIN}/postgres`)),
  },
  {
    what: 'Redis server',
    packages: ['redis-server'],
    present: async () => (await tryCommand('redis-server', ['--version'])) !== undefined,
  },
  {
    what: 'Prometheus',
    packages: ['prometheus'],
    present: async () => (await tryCommand('prometheus', ['--version'])) !== undefined,
  },
];

/** Go is not installed from Debian: bookworm's Go is too old to build FerretDB v1.24. */
async function checkGo(): Promise<void> {
  const version = await tryCommand('go', ['version']);
  if (!versionAtLeast(version, /go(\d+)\.(\d+)/, [1, 23])) {
    throw new PrerequisiteError(
      `Go 1.23 or newer is needed to build FerretDB (found: ${version?.trim() ?? 'no go on PATH'})`,
      'install Go from https://go.dev/dl or your distribution, and put `go` on PATH',
    );
  }
}

export async function ensurePrerequisites(log: Logger): Promise<void> {
  const missing: Prerequisite[] = [];
  for (const p of PREREQUISITES) if (!(await p.present())) missing.push(p);
  if (missing.length > 0) {
    const packages = missing.flatMap((p) => p.packages);
    const command = `apt-get update && apt-get install -y ${packages.join(' ')}`;
    const canInstall =
      process.getuid?.() === 0 && (await tryCommand('apt-get', ['--version'])) !== undefined;
    if (!canInstall) {
      throw new PrerequisiteError(
        `missing: ${missing.map((p) => p.what).join(', ')}`,
        `sudo sh -c '${command}'`,
      );
    }
    log.info({ packages }, 'installing missing prerequisites with apt-get');
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await runCommand('apt-get', ['update', '-q'], { env });
    await runCommand('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
      env,
    });
    for (const p of missing) {
      if (!(await p.present()))
        throw new PrerequisiteError(`${p.what} is still missing after apt-get install`, command);
    }
  }
  await checkGo();
}
