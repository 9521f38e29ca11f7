import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { PATCHES, PROJECT_ROOT, patchStatus, patchStatuses, sha256 } from '../patches/patches.mjs';
import { checkDependencyPatches, UnpatchedDependencyError } from './patched-dependencies.ts';

/** A node_modules with kafkajs@`version` whose patched files hold what `content` gives. */
async function installation(
  version: string,
  content: (patch: (typeof PATCHES)[number]) => Promise<string>,
): Promise<string> {
  const root = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-patches-'));
  const dir = nodePath.join(root, 'node_modules', 'kafkajs');
  await mkdir(dir, { recursive: true });
  await writeFile(nodePath.join(dir, 'package.json'), JSON.stringify({ name: 'kafkajs', version }));
  for (const patch of PATCHES.filter((p) => p.name === 'kafkajs')) {
    const file = nodePath.join(dir, patch.file);
    await mkdir(nodePath.dirname(file), { recursive: true });
    await writeFile(file, await content(patch));
  }
  return root;
}

const installed = (patch: (typeof PATCHES)[number]): Promise<string> =>
  readFile(nodePath.join(PROJECT_ROOT, 'node_modules', patch.name, patch.file), 'utf8');

describe('patched Kafka clients, checked at start', () => {
  const roots: string[] = [];
  afterAll(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });

  it('finds this installation patched (npm ci ran postinstall)', () => {
    const statuses = patchStatuses();
    expect(statuses.map((s) => s.state)).toEqual(PATCHES.map(() => 'patched'));
    expect(() => checkDependencyPatches(statuses)).not.toThrow();
  });

  it('refuses a client whose files are not what the patches were written for, naming the fix', async () => {
    const root = await installation('2.2.5', () => Promise.resolve('// another release\n'));
    roots.push(root);
    const statuses = patchStatuses(root);
    const kafkajs = statuses.filter((s) => s.patch.name === 'kafkajs');
    expect(kafkajs.map((s) => s.state)).toEqual(kafkajs.map(() => 'different'));
    // @platformatic/kafka is not in that node_modules at all: nothing to check.
    expect(statuses.find((s) => s.patch.name === '@platformatic/kafka')?.state).toBe('absent');
    let error: unknown;
    try {
      checkDependencyPatches(statuses);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnpatchedDependencyError);
    const message = (error as Error).message;
    expect(message).toContain('kafkajs@2.2.5 src/consumer/filterAbortedMessages.js');
    expect(message).toContain('Fix: `npm ci`');
    expect((error as UnpatchedDependencyError).code).toBe('DEPENDENCY_UNPATCHED');
  });

  it('accepts the patched files wherever they are installed', async () => {
    const root = await installation('2.2.4', installed);
    roots.push(root);
    const kafkajs = patchStatuses(root).filter((s) => s.patch.name === 'kafkajs');
    expect(kafkajs.map((s) => s.state)).toEqual(kafkajs.map(() => 'patched'));
    expect(() => checkDependencyPatches(kafkajs)).not.toThrow();
  });

  it('patches again a file that carries an earlier version of its patch, and nothing else', async () => {
    const recordV0 = PATCHES.find((p) => p.file.endsWith('record/v0/index.js'))!;
    const earlier = '// an earlier Continuum patch of this file\n';
    const root = await installation('2.2.4', () => Promise.resolve(earlier));
    roots.push(root);
    const revised = { ...recordV0, supersededSha256: [sha256(earlier)] };
    expect(patchStatus(revised, root).state).toBe('unpatched');
    expect(patchStatus({ ...recordV0, supersededSha256: [] }, root).state).toBe('different');
    // The same text under another version of the package is not ours to patch.
    const other = await installation('2.2.5', () => Promise.resolve(earlier));
    roots.push(other);
    expect(patchStatus(revised, other).state).toBe('different');
  });

  it('tells an install that skipped postinstall to run the patches', () => {
    const [first] = patchStatuses();
    const unpatched = { ...first!, state: 'unpatched' as const };
    expect(() => checkDependencyPatches([unpatched])).toThrow(
      /lacks our patch \(without it read_committed let aborted records through.*\n.*--ignore-scripts.*node patches\/apply\.mjs/s,
    );
  });
});
