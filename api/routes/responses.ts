// Response schemas every route shares: the problem+json errors it can answer with, so the
// OpenAPI document lists each status a client (or the schema fuzzer) can meet.
import type { z } from 'zod';
import { ProblemSchema } from '../contracts/api-schemas.ts';

const DESCRIPTIONS: Record<number, string> = {
  400: 'the request is not valid (code VALIDATION_FAILED, INVALID_JSON, INVALID_CURSOR, …)',
  401: 'no API key, or an unknown one (API_KEY_REQUIRED, INVALID_API_KEY)',
  403: 'the API key lacks the scope the route needs (SCOPE_REQUIRED)',
  404: 'nothing found (SHIPMENT_NOT_FOUND, REPLAY_NOT_FOUND, TRAINING_NOT_FOUND, ROUTE_NOT_FOUND)',
  409: 'conflicts with what runs (REPLAY_CONFLICT, GROUP_ACTIVE)',
  413: 'the body is larger than CONTINUUM_API_BODY_LIMIT_BYTES (BODY_TOO_LARGE)',
  415: 'the body is not JSON (UNSUPPORTED_MEDIA_TYPE)',
  429: 'over the rate limit of the key or client (RATE_LIMITED); see Retry-After',
  500: 'the request could not be served (INTERNAL); details are in the server log only',
  503: 'overloaded or a dependency is down (OVERLOADED, BACKPRESSURE, DEPENDENCY_UNAVAILABLE, ML_UNAVAILABLE, INGEST_REFUSED_BY_KAFKA); see Retry-After',
};

function problemResponse(status: number): {
  description: string;
  content: { 'application/problem+json': { schema: typeof ProblemSchema } };
} {
  return {
    description: DESCRIPTIONS[status] ?? 'error',
    content: { 'application/problem+json': { schema: ProblemSchema } },
  };
}

/** Problem responses of a read route (plus any extra statuses it can answer with). */
export function readErrors(...extra: number[]): Record<number, ReturnType<typeof problemResponse>> {
  return Object.fromEntries(
    [400, 401, 403, 429, 500, 503, ...extra].map((s) => [s, problemResponse(s)]),
  );
}

/** Problem responses of a route that takes a JSON body. */
export function writeErrors(
  ...extra: number[]
): Record<number, ReturnType<typeof problemResponse>> {
  return readErrors(413, 415, ...extra);
}

export function json<T extends z.ZodType>(
  description: string,
  schema: T,
): { description: string; content: { 'application/json': { schema: T } } } {
  return { description, content: { 'application/json': { schema } } };
}
