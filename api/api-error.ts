// Errors a route throws on purpose: an HTTP status, a stable code clients branch on, and a
// message safe to show. Everything else becomes a 500 whose details stay in the log.
import { ContinuumError, type ContinuumErrorOptions } from '../core/errors.ts';

export class ApiError extends ContinuumError {
  override readonly code: string;
  readonly statusCode: number;
  /** Response headers the status needs (Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;
  readonly errors: { path: string; message: string }[] | undefined;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options: ContinuumErrorOptions & {
      headers?: Record<string, string>;
      errors?: { path: string; message: string }[];
    } = {},
  ) {
    super(message, options);
    this.statusCode = statusCode;
    this.code = code;
    this.headers = options.headers ?? {};
    this.errors = options.errors;
  }
}
