// `continuum ml` on the platform: the champion read from eta.models, MLflow over REST,
// deliveries.completed through a consumer group into the window, trainings in a worker thread,
// and the HTTP endpoint (/metrics, /healthz, /ready, /train) on the ML metrics port. Stops gracefully:
// the consumer first, then the running training, then the endpoint and the producer.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import { createKafkaClient } from '../core/kafka-client.ts';
import type { Logger } from '../core/logger.ts';
import { handleShutdown } from '../core/shutdown.ts';
import { createSchemaRegistry, registerValueSchema } from '../schemas/event-schemas.ts';
import { DeliveryExamplesConsumer } from './delivery-examples-consumer.ts';
import { EtaModelsTopic } from './eta-models-topic.ts';
import { EtaTrainer, type ExperimentLog } from './eta-trainer.ts';
import { LiveAccuracy } from './live-accuracy.ts';
import { EtaExperiment } from './mlflow/eta-experiment.ts';
import { MlflowClient, MlflowError } from './mlflow/mlflow-client.ts';
import { RETRY_DEFAULTS } from '../core/retry.ts';
import { TRAINING_DEFAULTS } from './train-eta-model.ts';
import { workerThreadTraining, type TrainingExecutor } from './training-executor.ts';
import { trainerMetrics, type TrainerMetrics } from './trainer-metrics.ts';
import { buildTrainerHttp } from './trainer-http.ts';
import { TrainingWindow } from './training-window.ts';

export interface RunTrainerOptions {
  metricsPort: number;
  host: string;
  executor?: TrainingExecutor;
}

/** MLflow calls that failed for good are counted by operation (retries are counted as they happen). */
function countingFailures(experiment: ExperimentLog, metrics: TrainerMetrics): ExperimentLog {
  const counted =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        const named = err instanceof MlflowError ? err.context.operation : undefined;
        const operation = typeof named === 'string' ? named : 'unknown';
        metrics.mlflowFailures.inc({ operation });
        throw err;
      }
    };
  return {
    findRequest: counted((id) => experiment.findRequest(id)),
    logTraining: counted((outcome, context) => experiment.logTraining(outcome, context)),
    promote: counted((logged) => experiment.promote(logged)),
  };
}

export async function runTrainer(
  config: Config,
  log: Logger,
  options: RunTrainerOptions,
): Promise<void> {
  const ml = config.ml;
  const shutdown = handleShutdown(log);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = trainerMetrics(registry);
  const kafka = createKafkaClient(config, 'ml', log);
  const schemas = createSchemaRegistry(config);
  const schemaId = await registerValueSchema(schemas, config.topics.etaModels, 'EtaModel');
  const models = new EtaModelsTopic(
    kafka,
    schemas,
    {
      topic: config.topics.etaModels,
      modelName: ml.modelName,
      schemaId,
      groupPrefix: `${ml.groupId}-models`,
    },
    log,
  );
  await models.load(config);
  shutdown.onShutdown('ml.eta-models', () => models.close());

  const mlflow = new MlflowClient({
    url: config.mlflow.url,
    timeoutMs: ml.mlflowTimeoutMs,
    retry: { ...RETRY_DEFAULTS, budgetMs: ml.mlflowRetryMs },
    onRetry: ({ operation, attempt, delayMs, error }) => {
      metrics.mlflowRetries.inc({ operation });
      log.warn(
        { component: 'ml.mlflow', operation, attempt, delayMs, err: errorMessage(error) },
        'MLflow call failed; retrying',
      );
    },
  });
  const window = new TrainingWindow(ml.window);
  const trainer = new EtaTrainer(
    {
      training: {
        ...TRAINING_DEFAULTS,
        modelName: ml.modelName,
        holdoutFraction: ml.holdoutFraction,
        intervalCoverage: ml.intervalCoverage,
        promotionMargin: ml.promotionMargin,
        algorithms: ml.algorithms,
      },
      minDeliveries: ml.minDeliveries,
      failedWindowRetryMs: 60_000,
      jobsKept: 1_000,
    },
    {
      window,
      champion: models,
      experiment: countingFailures(new EtaExperiment(mlflow, ml.modelName, log), metrics),
      executor: options.executor ?? workerThreadTraining,
      metrics,
      live: new LiveAccuracy(ml.driftCheckpoints),
      log,
    },
  );
  // Filled in below: /ready answers from the start, not ready until the consumer has joined.
  const reading: { consumer?: DeliveryExamplesConsumer } = {};
  const http = await buildTrainerHttp(trainer, registry, async () => {
    const mlflowProblem = await mlflow.health();
    const consuming = reading.consumer?.running ?? false;
    return {
      ready: consuming && mlflowProblem === undefined,
      detail: {
        consumer: consuming ? 'reading' : 'not in the group',
        mlflow: mlflowProblem ?? 'answers',
      },
    };
  });
  await http.listen({ host: options.host, port: options.metricsPort });
  shutdown.onShutdown('ml.http', () => http.close());
  shutdown.onShutdown('ml.trainer', () => trainer.stop());

  const consumer = new DeliveryExamplesConsumer({
    kafka,
    registry: schemas,
    trainer,
    window,
    metrics,
    options: {
      topic: config.topics.deliveriesCompleted,
      groupId: ml.groupId,
      restartDelayMs: 1_000,
    },
    log,
  });
  reading.consumer = consumer;
  shutdown.onShutdown('ml.consumer', () => consumer.stop());
  await consumer.start();
  log.info(
    {
      modelName: ml.modelName,
      groupId: ml.groupId,
      window: ml.window,
      algorithms: ml.algorithms,
      port: options.metricsPort,
      mlflow: config.mlflow.url,
    },
    'ml trainer running',
  );
  await shutdown.done;
}
