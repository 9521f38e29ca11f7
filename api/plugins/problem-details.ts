// Every error leaves as application/problem+json (RFC 9457) with a stable `code`: validation
// failures list what failed, Fastify's own errors keep their status, and anything unexpected is
// a plain 500 — its message and stack go to the log, never to the client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError } from '../api-error.ts';
import type { Problem } from '../contracts/api-schemas.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Fastify's own error codes, mapped to ours (stable, documented in api/README.md). */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_BAD_URL: 'BAD_URL',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

export function problem(
  request: FastifyRequest,
  status: number,
  code: string,
  detail: string | undefined,
  errors?: Problem['errors'],
): Problem {
  return {
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    ...(detail === undefined ? {} : { detail }),
    instance: request.url.split('?')[0] ?? request.url,
    code,
    ...(errors === undefined ? {} : { errors }),
  };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

function issuePath(path: readonly string[], context: string): string {
  const parts = path.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
  return `${context}${parts}`;
}

export function registerProblemDetails(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
      return sendProblem(
        reply,
        problem(request, err.statusCode, err.code, err.message, err.errors),
      );
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const context = err.validationContext ?? 'request';
      const errors = err.validation.map((v) => ({
        path: issuePath(v.instancePath.split('/').filter(Boolean), context),
        message: v.message ?? 'invalid',
      }));
      return sendProblem(
        reply,
        problem(request, 400, 'VALIDATION_FAILED', `the ${context} is not valid`, errors),
      );
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code =
        FASTIFY_CODES[err.code] ?? (err instanceof SyntaxError ? 'INVALID_JSON' : 'BAD_REQUEST');
      return sendProblem(reply, problem(request, status, code, err.message));
    }
    request.log.error({ err }, 'request failed');
    return sendProblem(reply, problem(request, 500, 'INTERNAL', 'the request could not be served'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(
        request,
        404,
        'ROUTE_NOT_FOUND',
        `no route ${request.method} ${request.url.split('?')[0]}`,
      ),
    ),
  );
}
