// Request and response schemas of /v1/ml: training requests and the ETA model's versions.
import { z } from 'zod';

export const TrainRequestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/)
  .describe('idempotency key: a training is made once per id (letters, digits, . _ : -)');

export const TrainRequestSchema = z
  .strictObject({
    requestId: TrainRequestIdSchema.optional().describe(
      'idempotency key; without one the API makes one up (and a retry trains again)',
    ),
  })
  .meta({ id: 'TrainRequest' });

const metrics = z
  .record(z.string(), z.number())
  .describe(
    'MAE, RMSE (minutes), R², interval coverage, each baseline and the champion on the same holdout',
  );

export const TrainingJobSchema = z
  .object({
    requestId: z.string(),
    trigger: z.enum(['window', 'on-demand']),
    requestedBy: z.string(),
    requestedAt: z.number().int().describe('epoch ms (0 when known only from MLflow)'),
    status: z.enum(['queued', 'running', 'succeeded', 'skipped', 'failed']),
    finishedAt: z.number().int().nullable(),
    runId: z.string().nullable().describe('the MLflow run of this training'),
    modelVersion: z
      .number()
      .int()
      .nullable()
      .describe('registry version of the trained model; states show it as <model>-v<version>'),
    promoted: z.boolean().nullable().describe('whether it became the champion the join serves'),
    reason: z.string().nullable().describe('why it was promoted, kept, skipped or failed'),
    metrics: metrics.nullable(),
  })
  .meta({ id: 'TrainingJob' });

export const ModelVersionSchema = z
  .object({
    version: z.number().int(),
    runId: z.string().nullable(),
    createdAt: z.number().int().nullable(),
    status: z.string(),
    algorithm: z.string().nullable(),
    champion: z.boolean().describe('carries the alias champion: the join serves this version'),
    metrics,
    description: z.string(),
  })
  .meta({ id: 'ModelVersion' });

export const ModelsSchema = z
  .object({
    modelName: z.string(),
    champion: z.number().int().nullable(),
    versions: z.array(ModelVersionSchema).describe('newest first'),
  })
  .meta({ id: 'EtaModels' });

export const ModelsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
