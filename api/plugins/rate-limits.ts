// Per-key rate limits (@fastify/rate-limit): each API key has its own bucket and limit, an
// anonymous reader one per client address. Headers follow the IETF draft (RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset) and a 429 carries Retry-After.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../api-error.ts';

export async function registerRateLimits(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    // After the key was identified (onRequest hook of api-key-auth), before anything else.
    hook: 'onRequest',
    timeWindow: 60_000,
    max: (request) => request.principal.rateLimitPerMinute,
    keyGenerator: (request) =>
      request.principal.anonymous ? `ip:${request.ip}` : `key:${request.principal.name}`,
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        429,
        'RATE_LIMITED',
        `more than ${context.max} requests in ${context.after}; retry later`,
        { headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) } },
      ),
  });
}
