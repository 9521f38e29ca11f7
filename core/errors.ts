// Typed errors that carry context. Callers branch on `code` and `retriable`, never on text.

export type ErrorContext = Record<string, unknown>;

export interface ContinuumErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  context?: ErrorContext;
}

export class ContinuumError extends Error {
  readonly code: string = 'CONTINUUM_ERROR';
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, options: ContinuumErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

/** A configuration value is missing or invalid; `variable` names the environment variable. */
export class ConfigError extends ContinuumError {
  override readonly code = 'CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}=${JSON.stringify(p.value)}: ${p.message}`).join('\n')}`,
      { context: { variables: problems.map((p) => p.variable) } },
    );
    this.problems = problems;
  }
}

export interface ConfigProblem {
  variable: string;
  value: string | undefined;
  message: string;
}

/** A native stack service could not be installed, started or probed. */
export class StackServiceError extends ContinuumError {
  override readonly code = 'STACK_SERVICE_FAILED';
  readonly service: string;
  readonly logTail: string;

  constructor(
    service: string,
    message: string,
    options: ContinuumErrorOptions & { logTail?: string } = {},
  ) {
    super(`${service}: ${message}`, { ...options, context: { ...options.context, service } });
    this.service = service;
    this.logTail = options.logTail ?? '';
  }
}

/** Something the machine must have (a JDK, Go, a Debian package) is missing and could not be installed. */
export class PrerequisiteError extends ContinuumError {
  override readonly code = 'PREREQUISITE_MISSING';
  readonly fix: string;

  constructor(message: string, fix: string, options: ContinuumErrorOptions = {}) {
    super(`${message}\n  to fix: ${fix}`, options);
    this.fix = fix;
  }
}

/** A condition awaited with `waitFor` did not hold in time. */
export class TimeoutError extends ContinuumError {
  override readonly code = 'TIMEOUT';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A sink could not write a batch; `retriable` says whether trying again may succeed. */
export class SinkWriteError extends ContinuumError {
  override readonly code = 'SINK_WRITE_FAILED';
}

/** A record's bytes could not be turned into an event (bad magic byte, unknown schema, truncated Avro). */
export class DecodeError extends ContinuumError {
  override readonly code = 'DECODE_FAILED';
}
