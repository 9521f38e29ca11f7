// `continuum ml`'s HTTP endpoint on its metrics port: /metrics, /healthz and /ready (its
// consumer reads and MLflow answers) like the pipeline's processes, and the control the API calls for POST /v1/ml/train — POST /train starts a training for a
// request id (again with the same id: the same job, no second run), GET /train/:id follows it.
// It trusts its network, as the other processes' /metrics do: the API is the door with keys.
import Fastify, { type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import type { Readiness } from '../core/metrics-server.ts';
import { z } from 'zod';
import type { EtaTrainer } from './eta-trainer.ts';

/** Request ids: what an Idempotency-Key may hold, within reason. */
export const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const TrainRequestBody = z.strictObject({
  requestId: z.string().regex(REQUEST_ID),
  requestedBy: z.string().min(1).max(128).default('unknown'),
});

export async function buildTrainerHttp(
  trainer: EtaTrainer,
  registry: Registry,
  readiness?: () => Promise<Readiness>,
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.get('/metrics', async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
  app.get('/healthz', () => Promise.resolve('ok'));
  if (readiness)
    app.get('/ready', async (_request, reply) => {
      const { ready, detail } = await readiness();
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not ready', ...detail });
    });
  app.post('/train', { schema: { body: TrainRequestBody } }, async (request, reply) => {
    const { job, created } = await trainer.requestTraining(
      request.body.requestId,
      request.body.requestedBy,
    );
    return reply.code(created ? 202 : 200).send(job);
  });
  app.get(
    '/train/:requestId',
    { schema: { params: z.strictObject({ requestId: z.string().regex(REQUEST_ID) }) } },
    async (request, reply) => {
      const job = await trainer.lookup(request.params.requestId);
      if (!job) return reply.code(404).send({ error: 'no such training request' });
      return job;
    },
  );
  await app.ready();
  return app;
}
