// What a person reads when a command fails: the error with the causes it wraps (a wrapper such
// as "creating the shipments tables failed" says what was being done, its cause says why), and
// the next step where the cause is one we know. The JSON log keeps the whole error and stack.

/** The error's message followed by those of its causes not already in it: `a: b: c`. */
export function failureMessage(err: unknown): string {
  let text = '';
  for (const error of causeChain(err)) {
    const message = messageOf(error).trim();
    if (message === '' || text.includes(message)) continue;
    text = text === '' ? message : `${text}: ${message}`;
  }
  return text === '' ? String(err) : text;
}

/** The next step for a known cause anywhere in the chain, if one is known. */
export function nextStep(err: unknown): string | undefined {
  for (const error of causeChain(err)) {
    for (const hint of HINTS) {
      const step = hint(error);
      if (step !== undefined) return step;
    }
  }
  return undefined;
}

/** `failureMessage`, and the next step on a line of its own where one is known. */
export function failureReport(err: unknown): string {
  const next = nextStep(err);
  return next === undefined ? failureMessage(err) : `${failureMessage(err)}\n  next: ${next}`;
}

type Hint = (error: unknown) => string | undefined;

const HINTS: readonly Hint[] = [
  (error) =>
    messageOf(error).includes('client password must be a string')
      ? 'PostgreSQL asks for a password and CONTINUUM_POSTGRES_URL names none: put it in the URL ' +
        '(postgres://user:password@host:port/database), or unset CONTINUUM_POSTGRES_URL to use the ' +
        "native stack's server with the password `stack up` generated (<CONTINUUM_STATE_DIR>/postgres/password)"
      : undefined,
  (error) =>
    codeOf(error) === '28P01'
      ? 'PostgreSQL refused the user or password of CONTINUUM_POSTGRES_URL; unset it to use the ' +
        "native stack's server and password"
      : undefined,
  (error) =>
    codeOf(error) === '3D000'
      ? 'the database in CONTINUUM_POSTGRES_URL does not exist on that server; create it, or unset the variable for the native stack'
      : undefined,
  (error) => {
    if (codeOf(error) !== 'ECONNREFUSED') return undefined;
    const { address, port } = error as { address?: unknown; port?: unknown };
    const where =
      typeof address === 'string' && typeof port === 'number' ? ` at ${address}:${port}` : '';
    return `nothing listens${where}: start the local stack (\`npx continuum stack up\`, \`npx continuum stack status\` shows what runs), or point the CONTINUUM_*_URL variables at services that run`;
  },
];

/** The error and its causes (`cause`, and an AggregateError's errors), each once. */
function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const visit = (error: unknown): void => {
    if (error === undefined || error === null || chain.includes(error) || chain.length > 20) return;
    chain.push(error);
    if (error instanceof AggregateError) for (const inner of error.errors) visit(inner);
    if (error instanceof Error) visit(error.cause);
  };
  visit(err);
  return chain;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === 'string' ? error : '';
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
}
