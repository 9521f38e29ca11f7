// A vehicle's cleaned telemetry from the MongoDB history, in event-time order, a page at a time.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../api-error.ts';
import {
  QueryDateTimeSchema,
  TelemetryPageSchema,
  VehicleIdSchema,
} from '../../contracts/api-schemas.ts';
import type { ApiDeps } from '../../ports.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { readErrors } from '../responses.ts';

const CursorSchema = z.object({ t: z.number().int(), id: z.string() });

export const telemetryHistoryRoutes: FastifyPluginCallbackZod<{
  deps: Pick<ApiDeps, 'telemetryHistory'>;
}> = (app, { deps }, done) => {
  app.get(
    '/v1/vehicles/:id/telemetry',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'telemetry history of a vehicle in [from, to), oldest first',
        params: z.strictObject({ id: VehicleIdSchema }),
        querystring: z.strictObject({
          from: QueryDateTimeSchema.optional().describe('event time, inclusive'),
          to: QueryDateTimeSchema.optional().describe('event time, exclusive'),
          limit: z.coerce.number().int().min(1).max(1_000).default(200),
          cursor: z.string().max(512).optional().describe('nextCursor of the previous page'),
        }),
        response: { 200: TelemetryPageSchema, ...readErrors() },
      },
    },
    async (request) => {
      const q = request.query;
      const from = q.from === undefined ? undefined : Date.parse(q.from);
      const to = q.to === undefined ? undefined : Date.parse(q.to);
      if (from !== undefined && to !== undefined && to < from)
        throw new ApiError(400, 'VALIDATION_FAILED', '`to` is before `from`', {
          errors: [{ path: 'querystring.to', message: 'must not be before from' }],
        });
      const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor, CursorSchema);
      const items = await deps.telemetryHistory.list({
        vehicleId: request.params.id,
        from,
        to,
        after: cursor === undefined ? undefined : { eventTime: cursor.t, eventId: cursor.id },
        limit: q.limit + 1,
      });
      const page = items.slice(0, q.limit);
      const last = page.at(-1);
      return {
        items: page,
        nextCursor:
          items.length > q.limit && last
            ? encodeCursor({ t: last.eventTime, id: last.eventId })
            : null,
      };
    },
  );
  done();
};
