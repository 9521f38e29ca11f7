// The changes of one open transaction that did not fit in memory, in a file of JSON lines.
// pgoutput (protocol 1) sends a transaction only after it committed, but it may hold millions
// of rows: the pipeline appends them here once a transaction passes its in-memory limit and
// reads them back in chunks at the COMMIT, so the source's memory stays bounded whatever the
// transaction's size. A change's values are JSON-exact (numbers, strings, null).
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { CdcDecodeError } from './errors.ts';
import type { KeyedChange } from './row-conversion.ts';

export class SpilledChanges {
  readonly path: string;
  private handle: FileHandle | undefined;
  private appended = 0;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.handle = handle;
  }

  /** A new file in `directory` (made if missing), readable by this user only (it holds row data). */
  static async create(directory: string, slot: string, xid: number): Promise<SpilledChanges> {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const name = `${prefixOf(slot)}xid${xid}-${randomBytes(4).toString('hex')}.jsonl`;
    const path = join(directory, name);
    return new SpilledChanges(path, await open(path, 'wx', 0o600));
  }

  /**
   * Deletes the files a killed source of `slot` left behind (only one connection streams from a
   * slot at a time, so none of them is in use); returns how many there were.
   */
  static async removeLeftovers(directory: string, slot: string): Promise<number> {
    const names = await readdir(directory).catch(() => [] as string[]);
    const leftovers = names.filter((n) => n.startsWith(prefixOf(slot)) && n.endsWith('.jsonl'));
    await Promise.all(leftovers.map((n) => rm(join(directory, n), { force: true })));
    return leftovers.length;
  }

  /** Changes appended so far. */
  get size(): number {
    return this.appended;
  }

  async append(changes: readonly KeyedChange[]): Promise<void> {
    if (changes.length === 0) return;
    if (this.handle === undefined) throw new Error(`spill file ${this.path} is closed`);
    let text = '';
    for (const change of changes) text += `${JSON.stringify(change)}\n`;
    await this.handle.write(text);
    this.appended += changes.length;
  }

  /** Reads every change back, in append order, `size` at a time; no append after this. */
  async *chunks(size: number): AsyncGenerator<KeyedChange[]> {
    await this.closeHandle();
    const lines = createInterface({ input: createReadStream(this.path), crlfDelay: Infinity });
    let chunk: KeyedChange[] = [];
    let read = 0;
    for await (const line of lines) {
      if (line === '') continue;
      chunk.push(JSON.parse(line) as KeyedChange);
      read += 1;
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
    if (read !== this.appended) {
      throw new CdcDecodeError('a spilled transaction read back short', {
        context: { path: this.path, appended: this.appended, read },
      });
    }
  }

  /** Closes and deletes the file; safe to call more than once. */
  async discard(): Promise<void> {
    await this.closeHandle();
    await rm(this.path, { force: true });
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

function prefixOf(slot: string): string {
  return `continuum-cdc-${slot}-`;
}
