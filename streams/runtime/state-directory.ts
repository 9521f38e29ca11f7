// An application's state on disk, as Kafka Streams' StateDirectory: one LMDB environment under
// `<state dir>/<application id>` holding a database per task and store, a lock so that
// one instance at a time uses it, and per task an offset checkpoint. The checkpoint is written
// only when a task closes cleanly (everything committed, the disk flushed) and deleted when the
// task opens again; so a task that finds one restores only the changelog's tail, and a task
// that finds none (a crash, a lost partition) cannot trust its disk and restores from the start.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import nodePath from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { ContinuumError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { LmdbEntries, PersistentKeyValueStore } from './persistent-store.ts';
import type { StoreSpec } from './topology.ts';

export class StateDirectoryLockedError extends ContinuumError {
  override readonly code = 'STATE_DIRECTORY_LOCKED';

  constructor(dir: string, pid: number) {
    super(
      `state directory ${dir} is in use by process ${pid}: each instance of an application on ` +
        'one machine needs its own (CONTINUUM_STREAMS_STATE_DIR)',
      { context: { dir, pid } },
    );
  }
}

/** Directories this process holds (a second application instance in-process must not share). */
const heldHere = new Set<string>();

/** Changelog offsets per store: where a task's stores on disk stand. */
export type Checkpoint = ReadonlyMap<string, string>;

export class StateDirectory {
  readonly dir: string;
  private readonly env: RootDatabase;
  private readonly log: Logger;

  private constructor(dir: string, env: RootDatabase, log: Logger) {
    this.dir = dir;
    this.env = env;
    this.log = log;
  }

  /** The application's directory under `stateDir`, locked for this instance. */
  static open(stateDir: string, applicationId: string, log: Logger): StateDirectory {
    const dir = nodePath.resolve(stateDir, applicationId);
    mkdirSync(nodePath.join(dir, 'checkpoints'), { recursive: true });
    lock(dir);
    try {
      const env = open({ path: nodePath.join(dir, 'stores'), maxDbs: 10_000 });
      return new StateDirectory(dir, env, log.child({ stateDir: dir }));
    } catch (err) {
      unlock(dir);
      throw err;
    }
  }

  /** A task's store on disk. */
  store<K, V>(partition: number, spec: StoreSpec<K, V>): PersistentKeyValueStore<K, V> {
    const db = this.env.openDB<[K, V], string>({ name: `${partition}/${spec.name}` });
    return new PersistentKeyValueStore(spec.name, new LmdbEntries(this.env, db), spec.keyId, {
      timeIndex: spec.timeIndex,
    });
  }

  /** Empties a task's store on disk (no checkpoint vouches for it). */
  wipe(partition: number, store: string): void {
    this.env.openDB({ name: `${partition}/${store}` }).clearSync();
  }

  /**
   * The task's checkpoint, removed from disk: until the task closes cleanly again, a crash must
   * find none. Empty when there is none or it cannot be read.
   */
  takeCheckpoint(partition: number): Checkpoint {
    const file = this.checkpointFile(partition);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return new Map();
    }
    rmSync(file, { force: true });
    try {
      const parsed = JSON.parse(text) as { offsets?: Record<string, unknown> };
      const offsets = Object.entries(parsed.offsets ?? {}).filter(
        (e): e is [string, string] => typeof e[1] === 'string' && /^\d+$/.test(e[1]),
      );
      return new Map(offsets);
    } catch (err) {
      this.log.warn({ partition, err: String(err) }, 'unreadable checkpoint ignored');
      return new Map();
    }
  }

  /** Records where the task's stores stand, once what they hold is on disk. */
  async writeCheckpoint(partition: number, offsets: Checkpoint): Promise<void> {
    await this.env.flushed;
    const file = this.checkpointFile(partition);
    const body = JSON.stringify({ offsets: Object.fromEntries(offsets), at: Date.now() });
    writeFileSync(`${file}.tmp`, body);
    renameSync(`${file}.tmp`, file);
  }

  /**
   * Deletes an application's state on disk (Kafka Streams' `cleanUp()`), as a reset must: its
   * changelogs are gone, so nothing there can be trusted. Refused while an instance holds it.
   */
  static remove(stateDir: string, applicationId: string): boolean {
    const dir = nodePath.resolve(stateDir, applicationId);
    if (!existsSync(dir)) return false;
    lock(dir);
    try {
      rmSync(dir, { recursive: true, force: true });
    } finally {
      heldHere.delete(dir);
    }
    return true;
  }

  async close(): Promise<void> {
    await this.env.close();
    unlock(this.dir);
  }

  private checkpointFile(partition: number): string {
    return nodePath.join(this.dir, 'checkpoints', `${partition}.json`);
  }
}

function lockFile(dir: string): string {
  return nodePath.join(dir, '.lock');
}

function lock(dir: string): void {
  if (heldHere.has(dir)) throw new StateDirectoryLockedError(dir, process.pid);
  let holder: number | undefined;
  try {
    holder = Number(readFileSync(lockFile(dir), 'utf8').trim());
  } catch {
    holder = undefined;
  }
  if (holder !== undefined && holder !== process.pid && isAlive(holder))
    throw new StateDirectoryLockedError(dir, holder);
  writeFileSync(lockFile(dir), String(process.pid));
  heldHere.add(dir);
}

function unlock(dir: string): void {
  heldHere.delete(dir);
  rmSync(lockFile(dir), { force: true });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
