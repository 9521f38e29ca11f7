// The Kafka Streams peer of the backlog benchmark (bench/peers/kafka-streams): built once per
// machine into the download cache (Maven copies Kafka Streams 4.1.1 and its dependencies from
// Maven Central; javac compiles the one source file), then run as a child JVM per row.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import nodePath from 'node:path';
import type { Config } from '../core/config.ts';
import { ContinuumError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { repoRoot } from '../core/paths.ts';

const PEER_DIR = nodePath.join(repoRoot, 'bench', 'peers', 'kafka-streams');
const SOURCE = nodePath.join(
  PEER_DIR,
  'src',
  'main',
  'java',
  'dev',
  'continuum',
  'bench',
  'AnchorTopology.java',
);

export class PeerBuildError extends ContinuumError {
  override readonly code = 'PEER_BUILD_FAILED';
}

export type KafkaStreamsStore = 'rocksdb' | 'in-memory';

/** Builds the peer (dependencies cached; the source compiled every time, ~2 s) and returns its classpath. */
export function buildKafkaStreamsPeer(config: Config, log: Logger): string {
  const dir = nodePath.join(config.cacheDir, 'bench', 'kafka-streams-peer');
  const lib = nodePath.join(dir, 'lib');
  const classes = nodePath.join(dir, 'classes');
  if (!existsSync(nodePath.join(lib, 'kafka-streams-4.1.1.jar'))) {
    log.info({ lib }, 'kafka-streams peer: copying dependencies from Maven Central');
    run('mvn', [
      '-q',
      '-B',
      '-f',
      nodePath.join(PEER_DIR, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${lib}`,
      '-DincludeScope=runtime',
    ]);
  }
  mkdirSync(classes, { recursive: true });
  run('javac', ['-d', classes, '-cp', `${lib}/*`, SOURCE]);
  return `${lib}/*:${classes}`;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0)
    throw new PeerBuildError(
      `${command} ${args.slice(0, 4).join(' ')}… failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout || '').slice(-2_000)}`,
      { context: { command } },
    );
}

export interface KafkaStreamsPeerArgs {
  bootstrap: string;
  applicationId: string;
  input: string;
  output: string;
  dlq: string;
  store: KafkaStreamsStore;
  stateDir: string;
}

/** Starts the peer's JVM; it runs until SIGTERM. */
export function startKafkaStreamsPeer(classpath: string, a: KafkaStreamsPeerArgs): ChildProcess {
  return spawn(
    'java',
    [
      '-cp',
      classpath,
      'dev.continuum.bench.AnchorTopology',
      a.bootstrap,
      a.applicationId,
      a.input,
      a.output,
      a.dlq,
      a.store,
      a.stateDir,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** Peak RSS of a live process (Linux VmHWM), in bytes; 0 when it cannot be read. */
export function peakRssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}
