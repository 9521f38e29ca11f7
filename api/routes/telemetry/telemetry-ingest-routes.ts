// POST /v1/telemetry: a batch of readings into telemetry.raw through the producer SDK. Each
// reading is checked on its own against the VehicleTelemetry contract; the valid ones are
// accepted (202), the others listed with their reason. When the SDK's bounded buffer has no
// room for the batch the answer is 503 with Retry-After: the API never queues without bound.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import {
  TelemetryEncodeError,
  TelemetryProducerFailedError,
} from '../../../connectors/telemetry-sdk/telemetry-producer.ts';
import { errorMessage } from '../../../core/errors.ts';
import type { VehicleTelemetry } from '../../../schemas/types.ts';
import { ApiError } from '../../api-error.ts';
import {
  IngestResultSchema,
  TelemetryBatchSchema,
  VehicleTelemetryInputSchema,
} from '../../contracts/api-schemas.ts';
import type { ApiDeps } from '../../ports.ts';
import { writeErrors } from '../responses.ts';

type Rejection = { index: number; eventId: string | null; code: string; reason: string };

function eventIdOf(item: unknown): string | null {
  return typeof item === 'object' &&
    item !== null &&
    'eventId' in item &&
    typeof item.eventId === 'string'
    ? item.eventId
    : null;
}

export const telemetryIngestRoutes: FastifyPluginCallbackZod<{
  deps: Pick<ApiDeps, 'ingest'>;
}> = (app, { deps }, done) => {
  app.post(
    '/v1/telemetry',
    {
      config: { access: 'ingest' },
      schema: {
        tags: ['telemetry'],
        summary: 'ingest a batch of telemetry readings (VehicleTelemetry) into telemetry.raw',
        security: [{ apiKey: [] as string[] }, { bearer: [] as string[] }],
        body: TelemetryBatchSchema,
        response: { 202: IngestResultSchema, ...writeErrors() },
      },
    },
    async (request, reply) => {
      const rejections: Rejection[] = [];
      const valid: { index: number; event: VehicleTelemetry }[] = [];
      request.body.events.forEach((item, index) => {
        const parsed = VehicleTelemetryInputSchema.safeParse(item);
        if (parsed.success)
          valid.push({ index, event: parsed.data as unknown as VehicleTelemetry });
        else
          rejections.push({
            index,
            eventId: eventIdOf(item),
            code: 'INVALID_EVENT',
            reason: parsed.error.issues
              .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'event'}: ${i.message}`)
              .join('; '),
          });
      });
      if (valid.length > 0 && !deps.ingest.reserve(valid.length))
        throw new ApiError(
          503,
          'BACKPRESSURE',
          'the telemetry buffer is full; retry after the time in Retry-After',
          { headers: { 'retry-after': String(deps.ingest.retryAfterSeconds()) } },
        );
      let accepted = 0;
      try {
        const results = await Promise.allSettled(valid.map(({ event }) => deps.ingest.send(event)));
        results.forEach((result, i) => {
          const { index, event } = valid[i] as (typeof valid)[number];
          if (result.status === 'fulfilled') accepted += 1;
          else if (result.reason instanceof TelemetryEncodeError)
            rejections.push({
              index,
              eventId: event.eventId,
              code: 'ENCODE_FAILED',
              reason: errorMessage(result.reason),
            });
          else if (result.reason instanceof TelemetryProducerFailedError)
            // Kafka refuses the producer itself (authorization, the topic): no retry helps.
            throw new ApiError(503, 'INGEST_REFUSED_BY_KAFKA', errorMessage(result.reason));
          else throw result.reason;
        });
      } finally {
        if (valid.length > 0) deps.ingest.release(valid.length);
      }
      rejections.sort((a, b) => a.index - b.index);
      return reply.code(202).send({ accepted, rejected: rejections.length, rejections });
    },
  );
  done();
};
