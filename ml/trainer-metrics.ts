// What `continuum ml` exports on /metrics (prom-client). The drift gauge is the live MAE of
// completed deliveries under the champion divided by the MAE the champion had on its holdout;
// compose/prometheus/rules/ml.rules.yml alerts on it.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface TrainerMetrics {
  examplesConsumed: Counter<'outcome'>;
  windowDeliveries: Gauge;
  trainings: Counter<'trigger' | 'outcome'>;
  trainingSeconds: Histogram<'trigger'>;
  championVersion: Gauge;
  championMae: Gauge;
  championIntervalCoverage: Gauge;
  liveMae: Gauge;
  liveCheckpoints: Gauge;
  driftRatio: Gauge;
  modelMae: Gauge;
  mlflowRetries: Counter<'operation'>;
  mlflowFailures: Counter<'operation'>;
  groupEvents: Counter<'event'>;
  modelsPublished: Counter;
}

export function trainerMetrics(registry: Registry): TrainerMetrics {
  const registers = [registry];
  return {
    examplesConsumed: new Counter({
      name: 'continuum_ml_examples_consumed_total',
      help: 'Records of deliveries.completed read, by outcome (windowed, undecodable, repeated)',
      labelNames: ['outcome'],
      registers,
    }),
    windowDeliveries: new Gauge({
      name: 'continuum_ml_window_deliveries',
      help: 'Deliveries in the training window',
      registers,
    }),
    trainings: new Counter({
      name: 'continuum_ml_trainings_total',
      help: 'Trainings by trigger (window, on-demand) and outcome (promoted, kept, skipped, duplicate, failed)',
      labelNames: ['trigger', 'outcome'],
      registers,
    }),
    trainingSeconds: new Histogram({
      name: 'continuum_ml_training_duration_seconds',
      help: 'Wall time of a training, from the window snapshot to the model published (or kept)',
      labelNames: ['trigger'],
      buckets: [0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320],
      registers,
    }),
    championVersion: new Gauge({
      name: 'continuum_ml_champion_version',
      help: 'Registry version of the model the join serves (0: the baseline)',
      registers,
    }),
    championMae: new Gauge({
      name: 'continuum_ml_champion_mae_minutes',
      help: "The champion's MAE on its holdout when it was trained, minutes",
      registers,
    }),
    championIntervalCoverage: new Gauge({
      name: 'continuum_ml_champion_interval_coverage',
      help: "Share of the champion's holdout checkpoints inside their prediction interval",
      registers,
    }),
    liveMae: new Gauge({
      name: 'continuum_ml_live_mae_minutes',
      help: "The champion's MAE on the latest completed deliveries it was not trained on, minutes",
      registers,
    }),
    liveCheckpoints: new Gauge({
      name: 'continuum_ml_live_checkpoints',
      help: 'Checkpoints the live MAE is measured over',
      registers,
    }),
    driftRatio: new Gauge({
      name: 'continuum_ml_drift_ratio',
      help: "Live MAE ÷ the champion's holdout MAE: above 1 the world moved away from what it learned",
      labelNames: ['model'],
      registers,
    }),
    modelMae: new Gauge({
      name: 'continuum_ml_model_mae_minutes',
      help: 'Holdout MAE of each trained model version, minutes',
      labelNames: ['model', 'version'],
      registers,
    }),
    mlflowRetries: new Counter({
      name: 'continuum_ml_mlflow_retries_total',
      help: 'MLflow requests retried after a failure that may pass (no answer, timeout, 429, 5xx)',
      labelNames: ['operation'],
      registers,
    }),
    mlflowFailures: new Counter({
      name: 'continuum_ml_mlflow_failures_total',
      help: 'MLflow calls that failed for good (retries exhausted or refused)',
      labelNames: ['operation'],
      registers,
    }),
    groupEvents: new Counter({
      name: 'continuum_ml_group_events_total',
      help: 'Consumer group events of the trainer (join, rebalancing, crash, restart)',
      labelNames: ['event'],
      registers,
    }),
    modelsPublished: new Counter({
      name: 'continuum_ml_models_published_total',
      help: 'Champions published to eta.models',
      registers,
    }),
  };
}
