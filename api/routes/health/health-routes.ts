// Operations: liveness (/health: the process answers), readiness (/ready: every dependency
// answered a real request, with its latency) and Prometheus metrics (/metrics). Open to all
// and outside the rate limits, as probes and scrapers expect.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { probeDependencies } from '../../../core/dependency-probes.ts';
import { ReadinessSchema } from '../../contracts/api-schemas.ts';
import type { ApiDeps } from '../../ports.ts';
import { readErrors } from '../responses.ts';

export interface HealthRoutesOptions {
  deps: Pick<ApiDeps, 'probes'>;
  registry: Registry;
  /** A dependency that has not answered within this is reported down. */
  probeTimeoutMs: number;
}

const open = { access: 'public', rateLimit: false } as const;

export const healthRoutes: FastifyPluginCallbackZod<HealthRoutesOptions> = (
  app,
  { deps, registry, probeTimeoutMs },
  done,
) => {
  app.get(
    '/health',
    {
      config: open,
      schema: {
        tags: ['operations'],
        summary: 'liveness: the process serves requests',
        response: { 200: z.object({ status: z.literal('ok') }), ...readErrors() },
      },
    },
    () => Promise.resolve({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      config: open,
      schema: {
        tags: ['operations'],
        summary: 'readiness: each dependency with its latency; 503 when one is down',
        response: { 200: ReadinessSchema, ...readErrors(), 503: ReadinessSchema },
      },
    },
    async (_request, reply) => {
      const { ready, dependencies } = await probeDependencies(deps.probes, probeTimeoutMs);
      return reply.code(ready ? 200 : 503).send({ ready, dependencies });
    },
  );

  app.get(
    '/metrics',
    {
      config: open,
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics of this process',
        response: {
          200: {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: z.string() } },
          },
          ...readErrors(),
        },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
  done();
};
