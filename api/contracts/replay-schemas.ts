// Request and response schemas of /v1/replays: offset resets, view rebuilds, dead-letter
// re-drives, and the job each one runs as.
import { z } from 'zod';
import { QueryDateTimeSchema } from './api-schemas.ts';

const TopicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/);

export const ReplayRequestSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('reset-offsets'),
      group: z.string().min(1).max(249).describe('consumer group (stream application or sink)'),
      topics: z
        .array(
          z.strictObject({
            topic: TopicName,
            partitions: z.array(z.number().int().min(0).max(100_000)).min(1).max(1_024).optional(),
          }),
        )
        .min(1)
        .max(64),
      to: z
        .union([z.enum(['earliest', 'latest']), QueryDateTimeSchema])
        .describe('earliest, latest, or a date-time: the first record at or after it'),
      execute: z
        .boolean()
        .default(false)
        .describe(
          'false (default): only plan, as kafka-consumer-groups --dry-run; needs scope admin',
        ),
    }),
    z.strictObject({
      kind: z.literal('rebuild-view'),
      from: QueryDateTimeSchema.optional().describe('replay shipment.state records from this time'),
      until: QueryDateTimeSchema.optional().describe(
        'up to (not including) this time; default: now',
      ),
    }),
    z.strictObject({
      kind: z.literal('redrive-dead-letters'),
      topic: TopicName.describe('the topic whose DLQ (<topic>.dlq) to re-drive'),
      reasons: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
      failedFrom: QueryDateTimeSchema.optional(),
      failedUntil: QueryDateTimeSchema.optional(),
      execute: z.boolean().default(false).describe('false (default): only count what would go'),
    }),
  ])
  .meta({ id: 'ReplayRequest' });

const ProgressSchema = z.object({
  records: z.number().int().min(0),
  total: z.number().int().min(0),
  percent: z.number().min(0).max(100),
  ratePerSecond: z.number().min(0),
  etaSeconds: z.number().int().min(0).nullable(),
});

const OffsetResetReportSchema = z.object({
  rows: z.array(
    z.object({
      group: z.string(),
      topic: z.string(),
      partition: z.number().int(),
      current: z.number().int().nullable(),
      new: z.number().int(),
    }),
  ),
  executed: z.boolean(),
});

const RebuildReportSchema = z.object({
  records: z.number().int(),
  applied: z.record(z.string(), z.number().int()),
  undecodable: z.number().int(),
  ranges: z.array(
    z.object({ partition: z.number().int(), from: z.number().int(), to: z.number().int() }),
  ),
});

const RedriveReportSchema = z.object({
  dlq: z.string(),
  matched: z.number().int(),
  alreadyRedriven: z.number().int(),
  redriven: z.number().int(),
  byReason: z.record(z.string(), z.number().int()),
  executed: z.boolean(),
});

export const ReplayJobSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['reset-offsets', 'rebuild-view', 'redrive-dead-letters']),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    requestedBy: z.string(),
    createdAt: z.number().int(),
    finishedAt: z.number().int().nullable(),
    progress: ProgressSchema,
    result: z.union([OffsetResetReportSchema, RebuildReportSchema, RedriveReportSchema]).nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'ReplayJob' });
