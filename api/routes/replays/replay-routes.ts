// /v1/replays: start (POST), follow (GET) and cancel (DELETE) topic replays — consumer-group
// offset resets (scope admin), view rebuilds and dead-letter re-drives (scope replay). They run
// in the background; GET /v1/replays/:id reports their progress (records, %, ETA).
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hasScope } from '../../../core/api-keys.ts';
import type { ReplayJob, ReplayRequest } from '../../../replay/replay-jobs.ts';
import { ReplayConflictError } from '../../../replay/replay-jobs.ts';
import { ApiError } from '../../api-error.ts';
import { ReplayJobSchema, ReplayRequestSchema } from '../../contracts/replay-schemas.ts';
import type { ApiDeps } from '../../ports.ts';
import { readErrors, writeErrors } from '../responses.ts';

const time = (iso: string | undefined): number | undefined =>
  iso === undefined ? undefined : Date.parse(iso);

export function toReplayRequest(body: z.infer<typeof ReplayRequestSchema>): ReplayRequest {
  switch (body.kind) {
    case 'reset-offsets':
      return {
        kind: body.kind,
        group: body.group,
        topics: body.topics,
        to:
          body.to === 'earliest' || body.to === 'latest'
            ? { kind: body.to }
            : { kind: 'datetime', timestamp: Date.parse(body.to) },
        execute: body.execute,
      };
    case 'rebuild-view':
      return { kind: body.kind, from: time(body.from), until: time(body.until) };
    case 'redrive-dead-letters':
      return {
        kind: body.kind,
        topic: body.topic,
        reasons: body.reasons,
        failedFrom: time(body.failedFrom),
        failedUntil: time(body.failedUntil),
        execute: body.execute,
      };
  }
}

/** The job as the API shows it (the request stays in the server). */
function view(job: ReplayJob): z.infer<typeof ReplayJobSchema> {
  const { request: _request, ...shown } = job;
  return shown;
}

const security: { [scheme: string]: string[] }[] = [{ apiKey: [] }, { bearer: [] }];
const IdParams = z.strictObject({ id: z.uuid() });

export const replayRoutes: FastifyPluginCallbackZod<{ deps: Pick<ApiDeps, 'replays'> }> = (
  app,
  { deps },
  done,
) => {
  app.post(
    '/v1/replays',
    {
      config: { access: 'replay' },
      schema: {
        tags: ['replays'],
        summary:
          'start a replay: reset a consumer group to a time (scope admin to execute), rebuild the view, or re-drive dead letters',
        security,
        body: ReplayRequestSchema,
        response: { 202: ReplayJobSchema, ...writeErrors(409) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (
        body.kind === 'reset-offsets' &&
        body.execute &&
        !hasScope(request.principal.scopes, 'admin')
      )
        throw new ApiError(
          403,
          'SCOPE_REQUIRED',
          'executing an offset reset needs a key with scope admin',
        );
      let job: ReplayJob;
      try {
        job = deps.replays.start(toReplayRequest(body), request.principal.name);
      } catch (err) {
        if (err instanceof ReplayConflictError) throw new ApiError(409, err.code, err.message);
        throw err;
      }
      return reply.code(202).header('location', `/v1/replays/${job.id}`).send(view(job));
    },
  );

  app.get(
    '/v1/replays',
    {
      config: { access: 'replay' },
      schema: {
        tags: ['replays'],
        summary: 'replays of this API process, newest first',
        security,
        response: { 200: z.object({ items: z.array(ReplayJobSchema) }), ...readErrors() },
      },
    },
    () => Promise.resolve({ items: deps.replays.list().map(view) }),
  );

  app.get(
    '/v1/replays/:id',
    {
      config: { access: 'replay' },
      schema: {
        tags: ['replays'],
        summary: 'one replay, with its progress (records, percent, ETA) and result',
        security,
        params: IdParams,
        response: { 200: ReplayJobSchema, ...readErrors(404) },
      },
    },
    (request) => {
      const job = deps.replays.get(request.params.id);
      if (!job)
        return Promise.reject(
          new ApiError(404, 'REPLAY_NOT_FOUND', `no replay ${request.params.id}`),
        );
      return Promise.resolve(view(job));
    },
  );

  app.delete(
    '/v1/replays/:id',
    {
      config: { access: 'replay' },
      schema: {
        tags: ['replays'],
        summary: 'cancel a running replay (answers once it stopped), or forget a finished one',
        security,
        params: IdParams,
        response: { 200: ReplayJobSchema, ...readErrors(404) },
      },
    },
    async (request) => {
      const job = await deps.replays.cancel(request.params.id);
      if (!job) throw new ApiError(404, 'REPLAY_NOT_FOUND', `no replay ${request.params.id}`);
      return view(job);
    },
  );
  done();
};
