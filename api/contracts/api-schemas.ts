// The API's request and response schemas (zod 4). They validate requests, serialize responses
// and generate the OpenAPI document at /docs/json; the event shapes come from the Avro contracts.
import { z } from 'zod';
import { API_SCOPES } from '../../core/api-keys.ts';
import { SHIPMENT_STATUSES, type UnifiedShipmentState } from '../../schemas/types.ts';
import { avroRecordInputSchema, avroRecordSchema } from './avro-to-zod.ts';

export const UnifiedShipmentStateSchema = avroRecordSchema('UnifiedShipmentState').meta({
  id: 'UnifiedShipmentState',
}) as unknown as z.ZodType<UnifiedShipmentState>;

/** A telemetry reading as producers send it (Avro defaults may be left out). */
export const VehicleTelemetryInputSchema = avroRecordInputSchema('VehicleTelemetry');

export const ProblemSchema = z
  .object({
    type: z.string().describe('URI naming the problem type (about:blank for plain HTTP ones)'),
    title: z.string(),
    status: z.number().int().min(100).max(599),
    detail: z.string().optional(),
    instance: z.string().optional().describe('the request path'),
    code: z
      .string()
      .describe('stable machine-readable code, e.g. VALIDATION_FAILED, SHIPMENT_NOT_FOUND'),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('what failed validation, one entry per problem'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });
export type Problem = z.infer<typeof ProblemSchema>;

export const ShipmentIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/)
  .describe('shipment id, e.g. SHP-000042');
export const VehicleIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/)
  .describe('vehicle id, e.g. VEH-007');

export const ShipmentStatusSchema = z.enum(SHIPMENT_STATUSES);

/** Date-times in query strings: ISO 8601 with an offset, e.g. 2026-12-05T10:00:00Z. */
export const QueryDateTimeSchema = z.iso.datetime({ offset: true });

export const GroupLagSchema = z.object({
  group: z.string(),
  role: z.string().describe('what the group does for this answer, e.g. stream application, sink'),
  lag: z
    .number()
    .int()
    .min(0)
    .describe(
      'records the group has yet to read, all partitions (0 when only transaction markers or aborted records follow its committed offsets)',
    ),
});

export const FreshnessSchema = z
  .object({
    source: z.enum(['redis', 'postgres']).describe('where this answer was read'),
    newestInputEventTime: z
      .number()
      .int()
      .describe('event time of the newest input the state reflects (epoch ms; stateUpdatedAt)'),
    ageMs: z
      .number()
      .int()
      .describe('now minus newestInputEventTime (negative when simulated time runs ahead)'),
    lag: z
      .object({
        measuredAt: z.number().int().nullable().describe('epoch ms; null before the first measure'),
        groups: z.array(GroupLagSchema),
      })
      .describe('consumer lag of the groups that produced this state, measured every few seconds'),
  })
  .meta({ id: 'Freshness' });

export const ShipmentLookupSchema = z
  .object({ state: UnifiedShipmentStateSchema, freshness: FreshnessSchema })
  .meta({ id: 'ShipmentLookup' });

export const ShipmentPageSchema = z
  .object({
    items: z.array(UnifiedShipmentStateSchema),
    nextCursor: z
      .string()
      .nullable()
      .describe('pass as `cursor` for the next page; null on the last page'),
  })
  .meta({ id: 'ShipmentPage' });

export const NearbyShipmentsSchema = z
  .object({
    items: z.array(
      z.object({
        distanceKm: z.number().min(0),
        state: UnifiedShipmentStateSchema,
      }),
    ),
  })
  .meta({ id: 'NearbyShipments' });

export const TelemetryReadingSchema = z
  .object({
    eventId: z.string(),
    vehicleId: z.string(),
    eventTime: z.number().int().describe('epoch ms'),
    lat: z.number(),
    lon: z.number(),
    speedKmh: z.number(),
    headingDeg: z.number(),
    fuelPct: z.number(),
    engineTempC: z.number(),
    odometerKm: z.number(),
    source: z.object({
      topic: z.string(),
      partition: z.number().int(),
      offset: z.string(),
    }),
  })
  .meta({ id: 'TelemetryReading', description: 'a cleaned reading (km/h, °C) from the history' });

export const TelemetryPageSchema = z
  .object({ items: z.array(TelemetryReadingSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'TelemetryPage' });

export const TELEMETRY_BATCH_MAX = 1_000;

export const TelemetryBatchSchema = z
  .strictObject({
    events: z
      .array(z.unknown())
      .min(1)
      .max(TELEMETRY_BATCH_MAX)
      .describe(
        'readings, each checked on its own against the VehicleTelemetry contract: valid ones are accepted, invalid ones rejected with their reason',
      ),
  })
  .meta({ id: 'TelemetryBatch' });

export const IngestResultSchema = z
  .object({
    accepted: z.number().int().min(0),
    rejected: z.number().int().min(0),
    rejections: z.array(
      z.object({
        index: z.number().int().min(0).describe('position in `events`'),
        eventId: z.string().nullable(),
        code: z.string().describe('INVALID_EVENT or ENCODE_FAILED'),
        reason: z.string(),
      }),
    ),
  })
  .meta({ id: 'IngestResult' });

export const DependencyHealthSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  latencyMs: z.number().min(0),
  error: z.string().optional(),
});

export const ReadinessSchema = z
  .object({ ready: z.boolean(), dependencies: z.array(DependencyHealthSchema) })
  .meta({ id: 'Readiness' });

export const ApiScopeSchema = z.enum(API_SCOPES);
