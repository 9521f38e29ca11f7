// The spill file of an oversized transaction: what goes in comes out, in order, in chunks;
// files of a slot a killed source left behind are found and deleted, others' are not.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyedChange } from './row-conversion.ts';
import { SpilledChanges } from './spilled-changes.ts';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'spilled-changes-test-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function change(i: number): KeyedChange {
  return {
    key: `SHP-${i}`,
    change: {
      op: i % 2 ? 'UPDATE' : 'INSERT',
      before: null,
      after: null,
      source: { lsn: 1_000 + i, commitLsn: 0, txId: 7, table: 'public.shipments', snapshot: false },
      commitTime: 0.1 + i,
    },
  };
}

describe('SpilledChanges', () => {
  test('reads back every appended change in order, `size` at a time, then deletes its file', async () => {
    const spill = await SpilledChanges.create(join(directory, 'made'), 'slot_a', 7);
    expect(statSync(spill.path).mode & 0o777).toBe(0o600);
    const all = Array.from({ length: 7 }, (_, i) => change(i));
    await spill.append(all.slice(0, 4));
    await spill.append([]);
    await spill.append(all.slice(4));
    expect(spill.size).toBe(7);
    const chunks: KeyedChange[][] = [];
    for await (const chunk of spill.chunks(3)) chunks.push(chunk);
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 1]);
    expect(chunks.flat()).toEqual(all);
    await spill.discard();
    await spill.discard();
    expect(readdirSync(join(directory, 'made'))).toEqual([]);
  });

  test('a file cut short is an error, not a transaction silently missing changes', async () => {
    const spill = await SpilledChanges.create(directory, 'slot_a', 7);
    await spill.append([change(1), change(2)]);
    // The second line lost (a full disk, someone else's hands): one change comes back, not two.
    writeFileSync(spill.path, `${JSON.stringify(change(1))}\n`);
    const read: KeyedChange[][] = [];
    const readAll = async (): Promise<void> => {
      for await (const chunk of spill.chunks(10)) read.push(chunk);
    };
    await expect(readAll()).rejects.toMatchObject({ code: 'CDC_DECODE_FAILED' });
    expect(read.flat()).toEqual([change(1)]);
    await spill.discard();
  });

  test('removeLeftovers deletes only the slot’s own spill files', async () => {
    const a = await SpilledChanges.create(directory, 'slot_a', 1);
    const b = await SpilledChanges.create(directory, 'slot_b', 2);
    writeFileSync(join(directory, 'unrelated.jsonl'), '');
    expect(await SpilledChanges.removeLeftovers(directory, 'slot_a')).toBe(1);
    expect(readdirSync(directory).sort()).toEqual([b.path.split('/').pop(), 'unrelated.jsonl']);
    expect(await SpilledChanges.removeLeftovers(join(directory, 'missing'), 'slot_a')).toBe(0);
    await a.discard();
    await b.discard();
  });
});
