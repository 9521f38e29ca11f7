// How a training is recorded in MLflow: an experiment per model name; a run per training with
// its params (window, features, algorithm, sizes), metrics (MAE, RMSE, R², interval coverage,
// each baseline's and the champion's MAE) and artifacts (the model as the join reads it, an
// MLmodel file, the holdout plot, the evaluation report); a registered model version per run;
// and the alias `champion` on the version that serves. A run is tagged with the training
// request's id, so a repeated request finds the run it made.
import type { Logger } from '../../core/logger.ts';
import type { EtaModel } from '../../schemas/types.ts';
import { holdoutPlotSvg } from '../holdout-plot.ts';
import type { TrainingOutcome } from '../train-eta-model.ts';
import type { MlflowClient } from './mlflow-client.ts';
import { type KeyValue, type Metric, type Run } from './mlflow-client.ts';

export const CHAMPION_ALIAS = 'champion';
export const TAGS = {
  requestId: 'continuum.request_id',
  trigger: 'continuum.trigger',
  algorithm: 'continuum.algorithm',
  /** promote or keep: what the evaluation decided. */
  decision: 'continuum.decision',
  /** true once the alias moved to this run's version. */
  promoted: 'continuum.promoted',
  version: 'continuum.model_version',
} as const;

/** Artifact paths under a run. */
export const ARTIFACTS = {
  model: 'model/eta-model.json',
  mlmodel: 'model/MLmodel',
  plot: 'plots/holdout.svg',
  report: 'evaluation/report.json',
} as const;

export type TrainingTrigger = 'window' | 'on-demand';

export interface TrainingContext {
  trigger: TrainingTrigger;
  requestId: string | undefined;
  /** The window's settings and contents, logged as params. */
  window: Record<string, string | number>;
}

export interface LoggedTraining {
  experimentId: string;
  runId: string;
  /** Registry version of the run's model: the EtaModel's `version` if it serves. */
  version: number;
}

/** What a request id found: the run it made, and the model version that run registered. */
export interface RecordedRun {
  runId: string;
  version: number | undefined;
  status: string;
  promoted: boolean;
}

function params(outcome: TrainingOutcome, context: TrainingContext): KeyValue[] {
  const winner = outcome.candidates.find((c) => c.algorithm === outcome.algorithm);
  const entries: Record<string, string | number> = {
    ...Object.fromEntries(Object.entries(context.window).map(([k, v]) => [`window_${k}`, v])),
    trigger: context.trigger,
    algorithm: outcome.algorithm,
    candidates: outcome.candidates.map((c) => c.algorithm).join(','),
    features: outcome.model.featureNames.join(','),
    n_train_deliveries: outcome.split.train.deliveries,
    n_train_checkpoints: outcome.split.train.checkpoints,
    n_calibration_deliveries: outcome.split.calibration.deliveries,
    n_evaluation_deliveries: outcome.split.evaluation.deliveries,
    n_evaluation_checkpoints: outcome.split.evaluation.checkpoints,
    holdout_from: new Date(outcome.split.calibration.from).toISOString(),
    holdout_to: new Date(outcome.split.evaluation.to).toISOString(),
    interval_target_coverage: outcome.model.interval?.coverage ?? '',
    interval_scale_offset_min: outcome.model.interval?.scaleOffsetMinutes ?? '',
    ...Object.fromEntries(Object.entries(winner?.params ?? {}).map(([k, v]) => [`model_${k}`, v])),
  };
  // MLflow keeps params up to 6,000 characters.
  return Object.entries(entries).map(([key, value]) => ({
    key,
    value: String(value).slice(0, 6_000),
  }));
}

function metrics(outcome: TrainingOutcome, at: number): Metric[] {
  const values: Record<string, number> = {
    ...outcome.model.metrics,
    train_seconds: outcome.trainSeconds,
    promoted: outcome.promotion.promote ? 1 : 0,
  };
  for (const c of outcome.candidates) {
    values[`candidate_${c.algorithm.replaceAll('-', '_')}_calibration_mae`] = c.selection.mae;
    values[`candidate_${c.algorithm.replaceAll('-', '_')}_train_seconds`] = c.trainSeconds;
  }
  return Object.entries(values)
    .filter(([, v]) => Number.isFinite(v))
    .map(([key, value]) => ({ key, value, timestamp: at, step: 0 }));
}

/** The MLmodel file: says what the directory holds, for people browsing the registry. */
function mlmodelFile(model: EtaModel, runId: string): string {
  return [
    'artifact_path: model',
    'flavors:',
    '  continuum_eta:',
    `    kind: ${model.kind}`,
    `    data: eta-model.json`,
    '    evaluator: schemas/eta-model-evaluation.ts (the join serves it from the eta.models topic)',
    `run_id: ${runId}`,
    `utc_time_created: '${new Date(model.trainedAt).toISOString()}'`,
    '',
  ].join('\n');
}

export class EtaExperiment {
  readonly modelName: string;
  private readonly client: MlflowClient;
  private readonly log: Logger;
  private experimentId: string | undefined;

  constructor(client: MlflowClient, modelName: string, log: Logger) {
    this.client = client;
    this.modelName = modelName;
    this.log = log.child({ component: 'ml.mlflow' });
  }

  private async experiment(): Promise<string> {
    this.experimentId ??= await this.client.ensureExperiment(this.modelName, [
      { key: 'continuum.model_name', value: this.modelName },
    ]);
    return this.experimentId;
  }

  /** The run a request id made earlier (in this process or another), if any. */
  async findRequest(requestId: string): Promise<RecordedRun | undefined> {
    const experimentId = await this.experiment();
    const [run] = await this.client.searchRuns({
      experimentIds: [experimentId],
      filter: `tags.\`${TAGS.requestId}\` = '${requestId.replaceAll("'", "\\'")}'`,
      maxResults: 1,
    });
    if (!run) return undefined;
    return recordedRun(run);
  }

  /**
   * Logs a training: run, params, metrics, artifacts, a registered version. The run ends
   * FINISHED, or FAILED when a later step fails (then the error is thrown on).
   */
  async logTraining(outcome: TrainingOutcome, context: TrainingContext): Promise<LoggedTraining> {
    const experimentId = await this.experiment();
    const started = Date.now();
    const tags: KeyValue[] = [
      { key: TAGS.trigger, value: context.trigger },
      { key: TAGS.algorithm, value: outcome.algorithm },
      { key: TAGS.decision, value: outcome.promotion.promote ? 'promote' : 'keep' },
      { key: 'mlflow.source.name', value: 'continuum ml' },
      { key: 'mlflow.note.content', value: outcome.promotion.reason },
    ];
    if (context.requestId) tags.push({ key: TAGS.requestId, value: context.requestId });
    const run = await this.client.createRun({
      experimentId,
      runName: `${this.modelName}-${new Date(started).toISOString()}`,
      startTime: started,
      tags,
    });
    try {
      await this.client.logBatch(run.run_id, {
        params: params(outcome, context),
        metrics: metrics(outcome, started),
      });
      const model = { ...outcome.model, mlflowRunId: run.run_id };
      const better =
        outcome.evaluation.distanceOverSpeed.mae <= outcome.evaluation.routeHourSpeed.mae
          ? 'distanceOverSpeed'
          : 'routeHourSpeed';
      const uploads: [string, string, string][] = [
        [ARTIFACTS.model, `${JSON.stringify(model)}\n`, 'application/json'],
        [ARTIFACTS.mlmodel, mlmodelFile(model, run.run_id), 'text/yaml'],
        [
          ARTIFACTS.plot,
          holdoutPlotSvg({
            title: `${this.modelName} (${outcome.algorithm}) on ${outcome.split.evaluation.deliveries} held-out deliveries: MAE ${outcome.evaluation.model.mae.toFixed(1)} min, interval coverage ${(100 * outcome.evaluation.model.intervalCoverage).toFixed(1)} %`,
            points: outcome.holdout,
            baseline: better,
          }),
          'image/svg+xml',
        ],
        [
          ARTIFACTS.report,
          `${JSON.stringify(
            {
              algorithm: outcome.algorithm,
              candidates: outcome.candidates,
              split: outcome.split,
              evaluation: outcome.evaluation,
              promotion: outcome.promotion,
            },
            null,
            2,
          )}\n`,
          'application/json',
        ],
      ];
      for (const [path, content, type] of uploads)
        await this.client.uploadArtifact(run.artifact_uri, path, content, type);
      await this.client.ensureRegisteredModel(
        this.modelName,
        'ETA model of Continuum: minutes to arrival from trip features (schemas/eta-features.ts)',
      );
      const created = await this.client.createModelVersion({
        name: this.modelName,
        source: `${run.artifact_uri}/model`,
        runId: run.run_id,
        description: outcome.promotion.reason,
        tags: [
          { key: 'algorithm', value: outcome.algorithm },
          { key: 'mae', value: outcome.evaluation.model.mae.toFixed(3) },
        ],
      });
      await this.client.logBatch(run.run_id, {
        tags: [{ key: TAGS.version, value: created.version }],
      });
      await this.client.finishRun(run.run_id, 'FINISHED', Date.now());
      this.log.info(
        { runId: run.run_id, version: created.version, experimentId },
        'training logged to MLflow',
      );
      return { experimentId, runId: run.run_id, version: Number(created.version) };
    } catch (err) {
      await this.client.finishRun(run.run_id, 'FAILED', Date.now()).catch(() => undefined);
      throw err;
    }
  }

  /** Moves the alias `champion` to `version`, and marks its run. */
  async promote(logged: LoggedTraining): Promise<void> {
    await this.client.setAlias(this.modelName, CHAMPION_ALIAS, String(logged.version));
    await this.client.logBatch(logged.runId, { tags: [{ key: TAGS.promoted, value: 'true' }] });
  }
}

export function recordedRun(run: Run): RecordedRun {
  const tag = (key: string): string | undefined => run.data.tags?.find((t) => t.key === key)?.value;
  const version = tag(TAGS.version);
  return {
    runId: run.info.run_id,
    version: version === undefined ? undefined : Number(version),
    status: run.info.status,
    promoted: tag(TAGS.promoted) === 'true',
  };
}
