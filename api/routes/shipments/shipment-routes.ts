// The Unified Shipment State: one shipment (Redis, PostgreSQL when Redis misses) with how fresh
// it is, filtered lists (PostgreSQL, keyset pagination), and the shipments near a point (the
// Redis GEO index). GET /shipments/:id/unified answers what the seed project's route did.
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { UnifiedShipmentState } from '../../../schemas/types.ts';
import { ApiError } from '../../api-error.ts';
import {
  NearbyShipmentsSchema,
  QueryDateTimeSchema,
  ShipmentIdSchema,
  ShipmentLookupSchema,
  ShipmentPageSchema,
  ShipmentStatusSchema,
  VehicleIdSchema,
} from '../../contracts/api-schemas.ts';
import type { ApiDeps, ShipmentCursor } from '../../ports.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { readErrors } from '../responses.ts';

const CursorSchema = z.object({ t: z.number().int(), id: z.string() });

export interface ShipmentRoutesOptions {
  deps: Pick<ApiDeps, 'hot' | 'durable' | 'lag'>;
}

export const shipmentRoutes: FastifyPluginCallbackZod<ShipmentRoutesOptions> = (
  app,
  { deps },
  done,
) => {
  const lookup = async (
    shipmentId: string,
  ): Promise<{ state: UnifiedShipmentState; source: 'redis' | 'postgres' } | null> => {
    const hot = await deps.hot.get(shipmentId);
    if (hot) return { state: hot, source: 'redis' };
    const durable = await deps.durable.get(shipmentId);
    return durable ? { state: durable, source: 'postgres' } : null;
  };
  const lookupResponse = async (
    shipmentId: string,
  ): Promise<z.infer<typeof ShipmentLookupSchema>> => {
    const found = await lookup(shipmentId);
    if (!found)
      throw new ApiError(404, 'SHIPMENT_NOT_FOUND', `no state for shipment ${shipmentId}`);
    const lag = deps.lag.current();
    return {
      state: found.state,
      freshness: {
        source: found.source,
        newestInputEventTime: found.state.stateUpdatedAt,
        ageMs: Date.now() - found.state.stateUpdatedAt,
        lag,
      },
    };
  };
  const params = z.strictObject({ id: ShipmentIdSchema });

  app.get(
    '/v1/shipments/near',
    {
      schema: {
        tags: ['shipments'],
        summary: 'shipments on the way near a point, nearest first (Redis GEO index)',
        querystring: z.strictObject({
          lat: z.coerce.number().min(-85.05112878).max(85.05112878),
          lon: z.coerce.number().min(-180).max(180),
          radiusKm: z.coerce.number().positive().max(1_000),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
        response: { 200: NearbyShipmentsSchema, ...readErrors() },
      },
    },
    async (request) => ({ items: await deps.hot.near(request.query) }),
  );

  app.get(
    '/v1/shipments/:id',
    {
      schema: {
        tags: ['shipments'],
        summary: 'one shipment: its Unified Shipment State and how fresh it is',
        params,
        response: { 200: ShipmentLookupSchema, ...readErrors(404) },
      },
    },
    async (request) => lookupResponse(request.params.id),
  );

  app.get(
    '/shipments/:id/unified',
    {
      schema: {
        tags: ['shipments'],
        summary: 'the seed project’s lookup route; the same answer as GET /v1/shipments/:id',
        deprecated: true,
        params,
        response: { 200: ShipmentLookupSchema, ...readErrors(404) },
      },
    },
    async (request) => lookupResponse(request.params.id),
  );

  app.get(
    '/v1/shipments',
    {
      schema: {
        tags: ['shipments'],
        summary:
          'shipments filtered by status, customer, vehicle and update time, in (stateUpdatedAt, shipmentId) order, a page at a time',
        querystring: z.strictObject({
          status: ShipmentStatusSchema.optional(),
          customerId: z.string().min(1).max(128).optional(),
          vehicleId: VehicleIdSchema.optional(),
          updatedSince: QueryDateTimeSchema.optional().describe(
            'only states whose newest input is at or after this time',
          ),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().max(512).optional().describe('nextCursor of the previous page'),
        }),
        response: { 200: ShipmentPageSchema, ...readErrors() },
      },
    },
    async (request) => {
      const q = request.query;
      const after: ShipmentCursor | undefined =
        q.cursor === undefined
          ? undefined
          : (({ t, id }) => ({ stateUpdatedAt: t, shipmentId: id }))(
              decodeCursor(q.cursor, CursorSchema),
            );
      // One more than asked: whether there is a next page, without a count query.
      const items = await deps.durable.list(
        {
          status: q.status,
          customerId: q.customerId,
          vehicleId: q.vehicleId,
          updatedSince: q.updatedSince === undefined ? undefined : Date.parse(q.updatedSince),
        },
        { after, limit: q.limit + 1 },
      );
      const page = items.slice(0, q.limit);
      const last = page.at(-1);
      return {
        items: page,
        nextCursor:
          items.length > q.limit && last
            ? encodeCursor({ t: last.stateUpdatedAt, id: last.shipmentId })
            : null,
      };
    },
  );
  done();
};
