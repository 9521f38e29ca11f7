// Process entry of `continuum`: wires the command tree to the real process.
import { quietKnownWarnings } from '../core/process-warnings.ts';
import { runProgram } from './program.ts';

quietKnownWarnings();
// `continuum … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await runProgram(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
}).catch((err: unknown) => {
  process.stderr.write(
    `continuum: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
});
process.exitCode = code;
