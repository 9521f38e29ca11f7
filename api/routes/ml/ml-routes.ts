// /v1/ml: ask the ETA trainer for a training (scope ml; idempotent per request id), follow it,
// and list the model's versions with their metrics and which one is the champion.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../api-error.ts';
import {
  ModelsQuerySchema,
  ModelsSchema,
  TrainingJobSchema,
  TrainRequestIdSchema,
  TrainRequestSchema,
} from '../../contracts/ml-schemas.ts';
import { MlUnavailableError, type ApiDeps } from '../../ports.ts';
import { json, readErrors, writeErrors } from '../responses.ts';

const security: { [scheme: string]: string[] }[] = [{ apiKey: [] }, { bearer: [] }];

/** The trainer or MLflow is down: 503 with Retry-After, not a 500. */
async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof MlUnavailableError)
      throw new ApiError(503, 'ML_UNAVAILABLE', err.message, { headers: { 'retry-after': '5' } });
    throw err;
  }
}

export const mlRoutes: FastifyPluginCallbackZod<{ deps: Pick<ApiDeps, 'ml'> }> = (
  app,
  { deps },
  done,
) => {
  app.post(
    '/v1/ml/train',
    {
      config: { access: 'ml' },
      schema: {
        tags: ['ml'],
        summary:
          'train the ETA model on the current window now; a request id seen before returns its training (200), no second run',
        security,
        body: TrainRequestSchema,
        response: {
          200: json('a training was asked for with this id before: that one', TrainingJobSchema),
          202: json('a new training, queued', TrainingJobSchema),
          ...writeErrors(),
        },
      },
    },
    async (request, reply) => {
      const requestId = request.body.requestId ?? randomUUID();
      const { job, created } = await orUnavailable(() =>
        deps.ml.train({ requestId, requestedBy: request.principal.name }),
      );
      return reply
        .code(created ? 202 : 200)
        .header('location', `/v1/ml/train/${encodeURIComponent(job.requestId)}`)
        .send(job);
    },
  );

  app.get(
    '/v1/ml/train/:requestId',
    {
      config: { access: 'ml' },
      schema: {
        tags: ['ml'],
        summary: 'one training request: status, MLflow run, model version, metrics',
        security,
        params: z.strictObject({ requestId: TrainRequestIdSchema }),
        response: { 200: TrainingJobSchema, ...readErrors(404) },
      },
    },
    async (request) => {
      const job = await orUnavailable(() => deps.ml.trainingJob(request.params.requestId));
      if (!job)
        throw new ApiError(
          404,
          'TRAINING_NOT_FOUND',
          `no training request ${request.params.requestId}`,
        );
      return job;
    },
  );

  app.get(
    '/v1/ml/models',
    {
      config: { access: 'read' },
      schema: {
        tags: ['ml'],
        summary:
          "the ETA model's registered versions, newest first: metrics, and which is the champion",
        security,
        querystring: ModelsQuerySchema,
        response: { 200: ModelsSchema, ...readErrors() },
      },
    },
    (request) => orUnavailable(() => deps.ml.models(request.query.limit)),
  );
  done();
};
