// The CI contract of `npm run jest`: whatever Jest and the global teardown print, the last line of
// the output is the plain "N passed, N failed" line, and the exit code is Jest's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closingLine } from '../test/harness/summary-reporter.js';

const repo = resolve(import.meta.dirname, '..');
const wrapper = join(repo, 'scripts', 'run-jest.ts');
const reporter = join(repo, 'test', 'harness', 'summary-reporter.js');

describe('closingLine', () => {
  const results = (pending: number, todo: number) => ({
    numPassedTests: 4,
    numFailedTests: 1,
    numPendingTests: pending,
    numTodoTests: todo,
  });

  it('counts passed and failed, and skipped only when there are any', () => {
    expect(closingLine(results(0, 0))).toBe('4 passed, 1 failed');
    expect(closingLine(results(2, 1))).toBe('4 passed, 1 failed, 3 skipped');
  });
});

describe('scripts/run-jest.ts', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'run-jest-test-'));
    writeFileSync(join(dir, 'passes.test.js'), "test('adds', () => expect(1 + 1).toBe(2));\n");
    // Like the stack's teardown: logs after every reporter has run.
    writeFileSync(
      join(dir, 'teardown.js'),
      'module.exports = async () => { console.log(\'{"msg":"stopped"}\'); };\n',
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function runJest(): { status: number | null; lastLine: string; stdout: string } {
    const config = {
      rootDir: dir,
      testEnvironment: 'node',
      transform: {},
      globalTeardown: join(dir, 'teardown.js'),
      reporters: ['default', reporter],
    };
    const run = spawnSync(process.execPath, [wrapper, '--config', JSON.stringify(config)], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, CONTINUUM_TEST_SUMMARY_FILE: '' },
      timeout: 60_000,
    });
    const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
    return { status: run.status, lastLine: lines.at(-1) ?? '', stdout: run.stdout };
  }

  it('ends the output with the closing line, after what the teardown printed', () => {
    const run = runJest();
    expect(run.stdout).toContain('{"msg":"stopped"}');
    expect(run.lastLine).toBe('1 passed, 0 failed');
    expect(run.stdout.match(/^\d+ passed, \d+ failed$/gm)).toHaveLength(1);
    expect(run.status).toBe(0);
  });

  it("counts a failed test and exits with Jest's non-zero code", () => {
    writeFileSync(join(dir, 'fails.test.js'), "test('breaks', () => expect(1).toBe(2));\n");
    const run = runJest();
    expect(run.lastLine).toBe('1 passed, 1 failed');
    expect(run.status).toBe(1);
  });
});
