// The trainer's decisions, on ports (no Kafka, MLflow or HTTP here): deliveries go into the
// window; a training runs when the window is due and the consumer has caught up, or when asked
// (once per request id, also across restarts: MLflow keeps the id on the run); one training at a
// time; the challenger is logged to MLflow, and promoted — published to eta.models, alias
// `champion` moved — only when it beats the champion on the same holdout by the margin.
import type { Logger } from '../core/logger.ts';
import { errorMessage } from '../core/errors.ts';
import type { PublishedEtaModel } from '../schemas/eta-model-evaluation.ts';
import type { EtaModel } from '../schemas/types.ts';
import type { LiveAccuracy } from './live-accuracy.ts';
import type {
  LoggedTraining,
  RecordedRun,
  TrainingContext,
  TrainingTrigger,
} from './mlflow/eta-experiment.ts';
import type { TrainingExecutor } from './training-executor.ts';
import type { TrainingOptions, TrainingOutcome } from './train-eta-model.ts';
import type { TrainerMetrics } from './trainer-metrics.ts';
import type { TrainingWindow, WindowEntry } from './training-window.ts';

/** Where the champion lives: eta.models (what the join serves). */
export interface ChampionStore {
  current(): PublishedEtaModel | undefined;
  publish(model: EtaModel): Promise<void>;
}

/** The experiment log: MLflow. */
export interface ExperimentLog {
  findRequest(requestId: string): Promise<RecordedRun | undefined>;
  logTraining(outcome: TrainingOutcome, context: TrainingContext): Promise<LoggedTraining>;
  promote(logged: LoggedTraining): Promise<void>;
}

export type TrainingJobStatus = 'queued' | 'running' | 'succeeded' | 'skipped' | 'failed';

export interface TrainingJob {
  requestId: string;
  trigger: TrainingTrigger;
  requestedBy: string;
  requestedAt: number;
  status: TrainingJobStatus;
  finishedAt: number | null;
  /** The MLflow run of the training (also of an earlier one found for the same request id). */
  runId: string | null;
  /** Registry version of the run's model. */
  modelVersion: number | null;
  promoted: boolean | null;
  /** Why it was skipped, failed, promoted or kept. */
  reason: string | null;
  metrics: Record<string, number> | null;
}

export interface EtaTrainerOptions {
  training: TrainingOptions;
  minDeliveries: number;
  /** After a failed window training, the next one waits this long (wall clock). */
  failedWindowRetryMs: number;
  /** Jobs remembered in memory for GET /train/:id (older ones are still found in MLflow). */
  jobsKept: number;
}

export interface EtaTrainerPorts {
  window: TrainingWindow;
  champion: ChampionStore;
  experiment: ExperimentLog;
  executor: TrainingExecutor;
  metrics: TrainerMetrics;
  live: LiveAccuracy;
  log: Logger;
  now?: () => number;
}

/** `requestTraining`'s answer: the job, and whether this call created it. */
export interface RequestedTraining {
  job: TrainingJob;
  created: boolean;
}

export class EtaTrainer {
  private readonly options: EtaTrainerOptions;
  private readonly ports: EtaTrainerPorts;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly jobs = new Map<string, TrainingJob>();
  private queue: Promise<void> = Promise.resolve();
  private windowTrainingQueued = false;
  private windowRetryAt = 0;
  private windowRuns = 0;
  private stopped = false;

  constructor(options: EtaTrainerOptions, ports: EtaTrainerPorts) {
    this.options = options;
    this.ports = ports;
    this.log = ports.log.child({ component: 'ml.trainer' });
    this.now = ports.now ?? Date.now;
    // The drift series exists from the start, NaN until live deliveries are measured: a panel
    // shows "not measured yet" rather than nothing, and a `> threshold` alert stays quiet.
    ports.metrics.driftRatio.set({ model: options.training.modelName }, Number.NaN);
    this.showChampion(ports.champion.current());
  }

  // ---- input ----------------------------------------------------------------------------

  /** A record of deliveries.completed, decoded. */
  onExample(entry: WindowEntry): void {
    const added = this.ports.window.add(entry);
    this.ports.metrics.examplesConsumed.inc({ outcome: added ? 'windowed' : 'repeated' });
    this.ports.metrics.windowDeliveries.set(this.ports.window.size);
    // A record read again (after a rebalance) was measured the first time.
    if (added && this.ports.live.observe(entry.example, this.ports.champion.current()))
      this.showLive();
  }

  /**
   * The consumer read everything there was (its lag is 0): train now if the window is due. Not
   * while catching up, so that a restart re-reading its window trains once, not at every slide
   * it passes on the way.
   */
  onCaughtUp(): void {
    const w = this.ports.window;
    if (this.stopped || this.windowTrainingQueued || !w.due) return;
    if (w.size < this.options.minDeliveries || this.now() < this.windowRetryAt) return;
    this.windowTrainingQueued = true;
    this.windowRuns += 1;
    const job = this.newJob(`window-${this.now()}-${this.windowRuns}`, 'window', 'window');
    this.enqueue(job);
  }

  // ---- on demand --------------------------------------------------------------------------

  /**
   * Starts a training for `requestId` unless one was asked for with that id before: in this
   * process (its job), or in an earlier one (its finished MLflow run, answered as a finished
   * job). When MLflow cannot be asked now, the queued job asks again before it trains.
   */
  async requestTraining(requestId: string, requestedBy: string): Promise<RequestedTraining> {
    const known = this.jobs.get(requestId);
    if (known) return { job: known, created: false };
    const earlier = await this.ports.experiment.findRequest(requestId).catch(() => undefined);
    const raced = this.jobs.get(requestId);
    if (raced) return { job: raced, created: false };
    const job = this.newJob(requestId, 'on-demand', requestedBy);
    if (earlier?.status === 'FINISHED') {
      this.servedBefore(job, earlier);
      return { job, created: false };
    }
    this.enqueue(job);
    return { job, created: true };
  }

  private servedBefore(job: TrainingJob, earlier: RecordedRun): void {
    job.runId = earlier.runId;
    job.modelVersion = earlier.version ?? null;
    job.promoted = earlier.promoted;
    this.finish(job, 'succeeded', 'duplicate', `trained before, by MLflow run ${earlier.runId}`);
  }

  job(requestId: string): TrainingJob | undefined {
    return this.jobs.get(requestId);
  }

  /** The job of a request id: in memory, else the run an earlier process made for it (MLflow). */
  async lookup(requestId: string): Promise<TrainingJob | undefined> {
    const known = this.jobs.get(requestId);
    if (known) return known;
    const earlier = await this.ports.experiment.findRequest(requestId);
    if (!earlier) return undefined;
    return {
      requestId,
      trigger: 'on-demand',
      requestedBy: 'unknown',
      requestedAt: 0,
      status: earlier.status === 'FAILED' ? 'failed' : 'succeeded',
      finishedAt: null,
      runId: earlier.runId,
      modelVersion: earlier.version ?? null,
      promoted: earlier.promoted,
      reason: `trained by MLflow run ${earlier.runId} (before this process started)`,
      metrics: null,
    };
  }

  /** Resolves when the queued trainings have run (tests; a graceful stop waits for them). */
  async idle(): Promise<void> {
    let last: Promise<void> | undefined;
    while (last !== this.queue) {
      last = this.queue;
      await last;
    }
  }

  /** No new trainings; waits for the running one. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private newJob(requestId: string, trigger: TrainingTrigger, requestedBy: string): TrainingJob {
    const job: TrainingJob = {
      requestId,
      trigger,
      requestedBy,
      requestedAt: this.now(),
      status: 'queued',
      finishedAt: null,
      runId: null,
      modelVersion: null,
      promoted: null,
      reason: null,
      metrics: null,
    };
    this.jobs.set(requestId, job);
    while (this.jobs.size > this.options.jobsKept) {
      const oldest = this.jobs.keys().next().value;
      if (oldest === undefined) break;
      this.jobs.delete(oldest);
    }
    return job;
  }

  private enqueue(job: TrainingJob): void {
    this.queue = this.queue.then(() => this.run(job));
  }

  // ---- a training -------------------------------------------------------------------------

  private finish(
    job: TrainingJob,
    status: TrainingJobStatus,
    outcome: string,
    reason: string,
  ): void {
    job.status = status;
    job.reason = reason;
    job.finishedAt = this.now();
    this.ports.metrics.trainings.inc({ trigger: job.trigger, outcome });
  }

  private async run(job: TrainingJob): Promise<void> {
    if (this.stopped && job.status === 'queued') {
      this.finish(job, 'skipped', 'skipped', 'the trainer is stopping');
      return;
    }
    job.status = 'running';
    const started = performance.now();
    const log = this.log.child({ requestId: job.requestId, trigger: job.trigger });
    try {
      if (job.trigger === 'on-demand') {
        // A request id seen by an earlier process: its run is the answer, no second run.
        // A run that failed or never finished did not serve the request: train again.
        const earlier = await this.ports.experiment.findRequest(job.requestId);
        if (earlier?.status === 'FINISHED') {
          this.servedBefore(job, earlier);
          log.info({ runId: earlier.runId }, 'training request already served by an earlier run');
          return;
        }
      }
      const examples = this.ports.window.examples();
      if (examples.length < this.options.minDeliveries) {
        this.finish(
          job,
          'skipped',
          'skipped',
          `the window holds ${examples.length} deliveries; a training needs ${this.options.minDeliveries}`,
        );
        log.info({ deliveries: examples.length }, 'training skipped: too few deliveries');
        return;
      }
      const context: TrainingContext = {
        trigger: job.trigger,
        requestId: job.trigger === 'on-demand' ? job.requestId : undefined,
        window: this.ports.window.describe(),
      };
      const champion = this.ports.champion.current();
      const outcome = await this.ports.executor.train({
        examples,
        champion,
        options: this.options.training,
      });
      const logged = await this.ports.experiment.logTraining(outcome, context);
      const model: EtaModel = {
        ...outcome.model,
        version: logged.version,
        mlflowRunId: logged.runId,
      };
      job.runId = logged.runId;
      job.modelVersion = logged.version;
      if (outcome.model.metrics.mae !== undefined)
        this.ports.metrics.modelMae.set(
          { model: model.modelName, version: String(logged.version) },
          outcome.model.metrics.mae,
        );
      job.metrics = outcome.model.metrics;
      if (outcome.promotion.promote) {
        // The topic first: it is what the join serves; the alias records it.
        await this.ports.champion.publish(model);
        this.ports.metrics.modelsPublished.inc();
        this.ports.live.reset();
        this.showChampion(model);
        await this.ports.experiment.promote(logged);
      }
      job.promoted = outcome.promotion.promote;
      if (job.trigger === 'window' || this.ports.window.options.kind === 'sliding')
        this.ports.window.markTrained();
      this.finish(
        job,
        'succeeded',
        outcome.promotion.promote ? 'promoted' : 'kept',
        outcome.promotion.reason,
      );
      const e = outcome.evaluation;
      const bestBaseline = Math.min(e.distanceOverSpeed.mae, e.routeHourSpeed.mae);
      log.info(
        {
          runId: logged.runId,
          version: logged.version,
          algorithm: outcome.algorithm,
          deliveries: examples.length,
          trainCheckpoints: outcome.split.train.checkpoints,
          evaluationCheckpoints: e.model.n,
          mae: round(e.model.mae),
          rmse: round(e.model.rmse),
          r2: round(e.model.r2),
          intervalCoverage: round(e.model.intervalCoverage),
          baselineDistanceSpeedMae: round(e.distanceOverSpeed.mae),
          baselineRouteHourMae: round(e.routeHourSpeed.mae),
          championMae: e.champion ? round(e.champion.mae) : null,
          promoted: outcome.promotion.promote,
          trainSeconds: round(outcome.trainSeconds),
          summary: `${outcome.algorithm}: MAE ${e.model.mae.toFixed(2)} min vs ${bestBaseline.toFixed(2)} for the best baseline (${e.maeRatioToBestBaseline.toFixed(2)}×); ${Math.round(100 * this.options.training.intervalCoverage)} % intervals cover ${(100 * e.model.intervalCoverage).toFixed(1)} % of ${e.model.n} held-out checkpoints; ${outcome.promotion.promote ? 'promoted' : 'kept the champion'}: ${outcome.promotion.reason}`,
        },
        'training finished',
      );
    } catch (err) {
      this.finish(job, 'failed', 'failed', errorMessage(err));
      if (job.trigger === 'window')
        this.windowRetryAt = this.now() + this.options.failedWindowRetryMs;
      log.error({ err: errorMessage(err) }, 'training failed');
    } finally {
      if (job.trigger === 'window') this.windowTrainingQueued = false;
      this.ports.metrics.trainingSeconds.observe(
        { trigger: job.trigger },
        (performance.now() - started) / 1000,
      );
    }
  }

  private showChampion(model: PublishedEtaModel | undefined): void {
    const m = this.ports.metrics;
    m.championVersion.set(model?.version ?? 0);
    if (model?.metrics.mae !== undefined) m.championMae.set(model.metrics.mae);
    if (model?.interval) m.championIntervalCoverage.set(model.interval.measuredCoverage);
    this.showLive();
  }

  private showLive(): void {
    const m = this.ports.metrics;
    const live = this.ports.live;
    m.liveCheckpoints.set(live.checkpoints);
    if (live.checkpoints === 0) return;
    m.liveMae.set(live.mae);
    const champion = this.ports.champion.current();
    const trainedMae = champion?.metrics.mae;
    if (champion && trainedMae !== undefined && trainedMae > 0)
      m.driftRatio.set({ model: champion.modelName }, live.mae / trainedMae);
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
