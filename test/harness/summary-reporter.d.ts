// Types of summary-reporter.js (plain JavaScript: Jest loads reporters without a transform).
export function closingLine(results: {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}): string;

export default class SummaryReporter {
  onRunComplete(contexts: unknown, results: Parameters<typeof closingLine>[0]): void;
}
