// Runs Jest and ends the whole output with its one plain closing line,
// "N passed, N failed[, N skipped]", the line CI reads to count what ran.
//
// The summary reporter computes that line, but Jest prints more after its reporters: its own
// summary, the global teardown's stack-stop logs, "Force exiting Jest". CI reads only the closing
// lines, so three landings in a row were recorded as having run no test although 1,154 had
// passed. The reporter writes the line to a file named by CONTINUUM_TEST_SUMMARY_FILE; this
// wrapper prints it once Jest has exited, and exits with Jest's code.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const jestBin = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'node_modules',
  'jest',
  'bin',
  'jest.js',
);
const summaryDir = mkdtempSync(join(tmpdir(), 'continuum-jest-'));
const summaryFile = join(summaryDir, 'closing-line');

const jest = spawn(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--disable-warning=ExperimentalWarning',
    jestBin,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: { ...process.env, CONTINUUM_TEST_SUMMARY_FILE: summaryFile } },
);

// A terminal's Ctrl-C reaches Jest directly (same process group); a SIGTERM sent to this
// wrapper alone is passed on. Either way the wrapper waits for Jest to finish its teardown.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => jest.kill('SIGTERM'));

jest.on('exit', (code, signal) => {
  let closingLine: string | undefined;
  try {
    closingLine = readFileSync(summaryFile, 'utf8').trim();
  } catch {
    // Jest ended before its reporters ran (a config error, a signal): nothing was counted.
  }
  rmSync(summaryDir, { recursive: true, force: true });
  if (closingLine) process.stdout.write(`\n${closingLine}\n`);
  process.exit(code ?? (signal ? 128 + 15 : 1));
});
