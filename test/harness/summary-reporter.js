// Computes the one plain closing line CI reads, "N passed, N failed[, N skipped]", with no
// prefix: a line that starts with "tests" can be taken for the start of another runner's summary.
// Under scripts/run-jest.ts (every `npm run jest`) the line goes to the file that wrapper names
// and is printed after everything Jest prints; run without it, the line is printed here.
import { writeFileSync } from 'node:fs';

export function closingLine(results) {
  const skipped = results.numPendingTests + results.numTodoTests;
  const tail = skipped > 0 ? `, ${skipped} skipped` : '';
  return `${results.numPassedTests} passed, ${results.numFailedTests} failed${tail}`;
}

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const line = closingLine(results);
    const file = process.env.CONTINUUM_TEST_SUMMARY_FILE;
    if (file) writeFileSync(file, `${line}\n`);
    else process.stdout.write(`\n${line}\n`);
  }
}
