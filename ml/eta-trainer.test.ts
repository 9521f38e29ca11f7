// The trainer's decisions on fake ports: one run per request id (also one an earlier process
// served), promotion publishes and moves the alias, a kept challenger changes nothing served,
// window trainings only once caught up, failures keep the champion.
import { Registry } from 'prom-client';
import { createLogger } from '../core/logger.ts';
import type { PublishedEtaModel } from '../schemas/eta-model-evaluation.ts';
import type { EtaModel } from '../schemas/types.ts';
import { EtaTrainer, type ChampionStore, type ExperimentLog } from './eta-trainer.ts';
import { LiveAccuracy } from './live-accuracy.ts';
import type { LoggedTraining, RecordedRun } from './mlflow/eta-experiment.ts';
import { syntheticDeliveries } from './synthetic-deliveries.ts';
import { TRAINING_DEFAULTS } from './train-eta-model.ts';
import { inProcessTraining } from './training-executor.ts';
import { trainerMetrics } from './trainer-metrics.ts';
import { TrainingWindow } from './training-window.ts';

class FakeExperiment implements ExperimentLog {
  readonly runs: { requestId: string | undefined; promote: boolean }[] = [];
  readonly promoted: number[] = [];
  readonly earlier = new Map<string, RecordedRun>();
  failLogging = false;

  findRequest(requestId: string): Promise<RecordedRun | undefined> {
    return Promise.resolve(this.earlier.get(requestId));
  }

  logTraining(
    outcome: Parameters<ExperimentLog['logTraining']>[0],
    context: Parameters<ExperimentLog['logTraining']>[1],
  ): Promise<LoggedTraining> {
    if (this.failLogging) return Promise.reject(new Error('MLflow answered 503'));
    this.runs.push({ requestId: context.requestId, promote: outcome.promotion.promote });
    return Promise.resolve({
      experimentId: '1',
      runId: `run-${this.runs.length}`,
      version: this.runs.length,
    });
  }

  promote(logged: LoggedTraining): Promise<void> {
    this.promoted.push(logged.version);
    return Promise.resolve();
  }
}

class FakeChampion implements ChampionStore {
  readonly published: EtaModel[] = [];
  model: PublishedEtaModel | undefined;

  current(): PublishedEtaModel | undefined {
    return this.model;
  }

  publish(model: EtaModel): Promise<void> {
    this.published.push(model);
    this.model = model;
    return Promise.resolve();
  }
}

function setup(windowOptions: Partial<ConstructorParameters<typeof TrainingWindow>[0]> = {}) {
  const registry = new Registry();
  const metrics = trainerMetrics(registry);
  const window = new TrainingWindow({
    kind: 'sliding',
    spanMs: 365 * 86_400_000,
    maxDeliveries: 10_000,
    slideMs: 365 * 86_400_000,
    slideDeliveries: 100_000,
    ...windowOptions,
  });
  const experiment = new FakeExperiment();
  const champion = new FakeChampion();
  const trainer = new EtaTrainer(
    {
      training: { ...TRAINING_DEFAULTS, algorithms: ['gradient-boosted-trees'] },
      minDeliveries: 40,
      failedWindowRetryMs: 60_000,
      jobsKept: 100,
    },
    {
      window,
      champion,
      experiment,
      executor: inProcessTraining,
      metrics,
      live: new LiveAccuracy(1_000),
      log: createLogger('silent'),
    },
  );
  const feed = (count: number, offset = 0): void =>
    syntheticDeliveries({
      deliveries: count,
      start: Date.UTC(2026, 0, 5, 5) + offset * 7 * 60_000,
    }).forEach((example, i) => trainer.onExample({ example, partition: 0, offset: offset + i }));
  const metric = async (name: string): Promise<string> =>
    (await registry.getSingleMetricAsString(name))
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
  return { trainer, experiment, champion, window, feed, metric };
}

describe('EtaTrainer', () => {
  it('trains once per request id: a repeated id returns the same job, no second run', async () => {
    const { trainer, experiment, champion, feed } = setup();
    feed(80);
    const first = await trainer.requestTraining('req-1', 'test');
    const again = await trainer.requestTraining('req-1', 'test');
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.job).toBe(first.job);
    await trainer.idle();
    expect(experiment.runs).toEqual([{ requestId: 'req-1', promote: true }]);
    expect(first.job).toMatchObject({
      status: 'succeeded',
      runId: 'run-1',
      modelVersion: 1,
      promoted: true,
    });
    // Promoted: published to eta.models with the registry version, and the alias moved.
    expect(champion.published.map((m) => [m.version, m.mlflowRunId])).toEqual([[1, 'run-1']]);
    expect(experiment.promoted).toEqual([1]);
    await trainer.requestTraining('req-1', 'test');
    await trainer.idle();
    expect(experiment.runs).toHaveLength(1);
  });

  it('answers a request id an earlier process served with that run', async () => {
    const { trainer, experiment, feed, metric } = setup();
    feed(80);
    experiment.earlier.set('req-old', {
      runId: 'run-old',
      version: 3,
      status: 'FINISHED',
      promoted: true,
    });
    const { job, created } = await trainer.requestTraining('req-old', 'test');
    // Answered at once, as a request seen before.
    expect(created).toBe(false);
    await trainer.idle();
    expect(experiment.runs).toEqual([]);
    expect(job).toMatchObject({ status: 'succeeded', runId: 'run-old', modelVersion: 3 });
    expect(await metric('continuum_ml_trainings_total')).toContain(
      'continuum_ml_trainings_total{trigger="on-demand",outcome="duplicate"} 1',
    );
  });

  it('keeps the champion when the challenger is not better by the margin', async () => {
    const { trainer, experiment, champion, feed } = setup();
    feed(80);
    await trainer.requestTraining('a', 'test');
    await trainer.idle();
    await trainer.requestTraining('b', 'test');
    await trainer.idle();
    // The same data trains the same model: not 2 % better.
    expect(experiment.runs.map((r) => r.promote)).toEqual([true, false]);
    expect(champion.published).toHaveLength(1);
    expect(experiment.promoted).toEqual([1]);
    expect(trainer.job('b')).toMatchObject({
      status: 'succeeded',
      promoted: false,
      modelVersion: 2,
    });
  });

  it('skips a training with too few deliveries', async () => {
    const { trainer, experiment, feed } = setup();
    feed(10);
    const { job } = await trainer.requestTraining('few', 'test');
    await trainer.idle();
    expect(job.status).toBe('skipped');
    expect(job.reason).toContain('10 deliveries');
    expect(experiment.runs).toEqual([]);
  });

  it('trains a due window only once the consumer caught up, and once', async () => {
    const { trainer, experiment, feed } = setup({ slideDeliveries: 50 });
    feed(80);
    await trainer.idle();
    expect(experiment.runs).toEqual([]);
    trainer.onCaughtUp();
    trainer.onCaughtUp();
    await trainer.idle();
    expect(experiment.runs).toEqual([{ requestId: undefined, promote: true }]);
    // The slide starts again: not due until 50 more deliveries came.
    trainer.onCaughtUp();
    await trainer.idle();
    expect(experiment.runs).toHaveLength(1);
  });

  it('fails the job and keeps serving the champion when MLflow fails', async () => {
    const { trainer, experiment, champion, feed, metric } = setup();
    feed(80);
    experiment.failLogging = true;
    const { job } = await trainer.requestTraining('down', 'test');
    await trainer.idle();
    expect(job).toMatchObject({ status: 'failed', reason: 'MLflow answered 503' });
    expect(champion.published).toEqual([]);
    expect(await metric('continuum_ml_trainings_total')).toContain('outcome="failed"} 1');
  });

  it('measures the champion live on deliveries after its data: the drift gauge', async () => {
    const { trainer, feed, metric } = setup();
    feed(80);
    await trainer.requestTraining('a', 'test');
    await trainer.idle();
    expect(await metric('continuum_ml_live_checkpoints')).toContain(' 0');
    feed(20, 80);
    expect(await metric('continuum_ml_live_checkpoints')).not.toMatch(/ 0$/);
    expect(await metric('continuum_ml_drift_ratio')).toMatch(
      /continuum_ml_drift_ratio\{model="[^"]+"\} \d/,
    );
  });
});
