// API keys: who is calling (onRequest, before the rate limiter counts the call against them) and
// whether they may (preValidation, before the body is looked at). A route says what it needs in
// its config: a scope, or 'public' for /health, /ready, /metrics and the docs. Reads may be
// open to loopback clients without a key (CONTINUUM_API_ANONYMOUS_READS=loopback).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findApiKey, hasScope, type ApiKeyEntry, type ApiScope } from '../../core/api-keys.ts';
import { ApiError } from '../api-error.ts';

export interface Principal {
  /** Key name, or `anonymous`. */
  name: string;
  scopes: readonly ApiScope[];
  /** Requests per minute allowed for this caller. */
  rateLimitPerMinute: number;
  anonymous: boolean;
}

export type RouteAccess = ApiScope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a caller needs to use the route (default: read). */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface ApiKeyAuthOptions {
  keys: readonly ApiKeyEntry[];
  anonymousReads: 'loopback' | 'none';
  rateLimitPerMinute: number;
}

export const API_KEY_HEADER = 'x-api-key';

/** The presented key: `X-API-Key: <key>` or `Authorization: Bearer <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers[API_KEY_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const auth = request.headers.authorization;
  const bearer = auth === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  return bearer;
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="continuum"' };

export function registerApiKeyAuth(app: FastifyInstance, options: ApiKeyAuthOptions): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', (request, _reply, done) => {
    const key = presentedKey(request);
    const entry = key === undefined ? undefined : findApiKey(options.keys, key);
    if (key !== undefined && entry === undefined) {
      // A wrong key is an error even on routes that need none: the caller meant to use one.
      done(
        new ApiError(401, 'INVALID_API_KEY', 'the API key is not valid', { headers: CHALLENGE }),
      );
      return;
    }
    request.principal = entry
      ? {
          name: entry.name,
          scopes: entry.scopes,
          rateLimitPerMinute: entry.rateLimitPerMinute ?? options.rateLimitPerMinute,
          anonymous: false,
        }
      : {
          name: 'anonymous',
          scopes:
            options.anonymousReads === 'loopback' && isLoopback(request.socket.remoteAddress ?? '')
              ? ['read']
              : [],
          rateLimitPerMinute: options.rateLimitPerMinute,
          anonymous: true,
        };
    done();
  });
  app.addHook('preValidation', (request, _reply, done) => {
    done(refusal(request.principal, request.routeOptions.config.access ?? 'read'));
  });
}

/** Why a caller may not use a route that needs `access`, or undefined when they may. */
export function refusal(principal: Principal, access: RouteAccess): ApiError | undefined {
  if (access === 'public' || hasScope(principal.scopes, access)) return undefined;
  if (principal.anonymous)
    return new ApiError(
      401,
      'API_KEY_REQUIRED',
      `this route needs an API key with scope ${access}`,
      {
        headers: CHALLENGE,
      },
    );
  return new ApiError(
    403,
    'SCOPE_REQUIRED',
    `the key ${principal.name} lacks scope ${access} (it has ${principal.scopes.join(', ')})`,
  );
}
