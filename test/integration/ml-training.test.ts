// Issue 11 on the real stack: the simulator's deliveries go through the whole pipeline into
// deliveries.completed; `continuum ml` windows them; POST /v1/ml/train trains once per request
// id; MLflow (read back over REST) holds the run with params, metrics and artifacts, and a
// registered version carrying the alias `champion`; the champion goes to eta.models, and the
// running join stamps its version on the states of the next shipments, without a restart.
import type { Kafka } from 'kafkajs';
import { loadConfig, type Config } from '../../core/config.ts';
import { apiKeyEntryText, parseApiKeys } from '../../core/api-keys.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { startApiServer, type RunningApi } from '../../api/server.ts';
import { ARTIFACTS, CHAMPION_ALIAS, TAGS } from '../../ml/mlflow/eta-experiment.ts';
import { MlflowClient } from '../../ml/mlflow/mlflow-client.ts';
import { NO_FAULTS } from '../../seeder/faults.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../seeder/simulation.ts';
import type { DeliveryExample, UnifiedShipmentState } from '../../schemas/types.ts';
import { createKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { foldInputs, settledOutputs } from '../support/pipeline/pipeline-checks.ts';
import {
  PipelineHarness,
  type StreamsProcess,
  type TrainerProcess,
} from '../support/pipeline/pipeline-harness.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const HOUR = 3_600_000;

/**
 * Enough deliveries for a window of 20+ (train, calibrate, evaluate), a few minutes of pipeline.
 * Under 6 h of simulated time: a bounded seed runs flat out, telemetry gets ahead of shipment
 * changes, and beyond the join's reading history (CONTINUUM_STREAMS_READING_HISTORY_MS, 6 h)
 * the early deliveries would lose checkpoints (docs/architecture.md, "Event time").
 */
const TRAINING_RUN: SimulationOptions = {
  ...SIMULATION_DEFAULTS,
  seed: 20261211,
  vehicles: 24,
  shipments: 70,
  customers: 20,
  durationMs: 5.5 * HOUR,
  telemetryIntervalMs: 30_000,
  faults: NO_FAULTS,
};

/** Later shipments (a day on, so no reading is older than what the cleaner saw). */
const SERVING_RUN: SimulationOptions = {
  ...TRAINING_RUN,
  seed: 20261212,
  vehicles: 3,
  shipments: 3,
  durationMs: 4 * HOUR,
  startTime: TRAINING_RUN.startTime + 2 * 24 * HOUR,
};

const ML_KEY = `ck_test_ml_${'m'.repeat(32)}`;

describe('ETA training on the real stack (issue 11)', () => {
  let kafka: Kafka;
  let harness: PipelineHarness;
  let streams: StreamsProcess;
  const trainers: TrainerProcess[] = [];
  let api: RunningApi | undefined;
  const modelName = uniqueName('test-eta');
  const mlflow = new MlflowClient({ url: config.mlflow.url, timeoutMs: 10_000 });

  beforeAll(async () => {
    kafka = createKafka(config, 'ml-training');
    harness = await PipelineHarness.create(config, kafka, log);
  });

  afterAll(async () => {
    await api?.close().catch(() => undefined);
    for (const t of trainers) await t.kill('SIGTERM').catch(() => undefined);
    await (harness as PipelineHarness | undefined)?.cleanup();
    await mlflow.deleteRegisteredModel(modelName).catch(() => undefined);
    const experiment = await mlflow.getExperimentByName(modelName).catch(() => undefined);
    if (experiment) await mlflow.deleteExperiment(experiment.experiment_id).catch(() => undefined);
  });

  it('trains once per request id, logs it to MLflow, and the join serves the champion', async () => {
    // 1. Deliveries through the whole pipeline, labelled with the simulator's ground truth.
    streams = await harness.startStreamsServing('exactly-once', modelName);
    await harness.seed(TRAINING_RUN);
    await harness.waitUntilSettled(streams, settledOutputs(await foldInputs(harness)), 240_000);
    const examples = (await harness.read<DeliveryExample>(harness.topics.deliveriesCompleted))
      .map((r) => r.value)
      .filter((v): v is DeliveryExample => v !== undefined);
    const delivered = new Set(examples.map((e) => e.shipmentId)).size;
    expect(delivered).toBeGreaterThanOrEqual(25);
    const { rows: truth } = await harness.pool.query<{ shipment_id: string; arrived: string }>(
      `SELECT shipment_id, (extract(epoch from arrived_at) * 1000)::bigint::text AS arrived
         FROM ${harness.pgSchema}.shipment_ground_truth WHERE arrived_at IS NOT NULL`,
    );
    const arrived = new Map(truth.map((r) => [r.shipment_id, Number(r.arrived)]));
    for (const e of examples) {
      expect(e.actualArrival).toBe(arrived.get(e.shipmentId));
      expect(e.checkpoints.length).toBeGreaterThan(0);
    }

    // 2. The trainer windows them (no window trainings: this test asks for its own).
    const startTrainer = async (): Promise<TrainerProcess> => {
      const started = await harness.startTrainer({
        CONTINUUM_ML_MODEL_NAME: modelName,
        CONTINUUM_ML_MIN_DELIVERIES: '20',
        CONTINUUM_ML_WINDOW_SLIDE_DELIVERIES: '10000000',
        CONTINUUM_ML_WINDOW_SLIDE_MS: String(365 * 24 * HOUR),
        CONTINUUM_LOG_LEVEL: 'info',
      });
      trainers.push(started);
      return started;
    };
    /** Waits until `check` holds on a trainer (failing at once if it stopped). */
    const until = (t: TrainerProcess, description: string, check: () => Promise<boolean>) =>
      waitFor(
        async () => {
          if (t.exited || t.failed) throw new Error(`continuum ml stopped:\n${t.tail()}`);
          return check();
        },
        { timeoutMs: 60_000, intervalMs: 250, description },
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${t.tail()}`);
      });
    const running = await startTrainer();
    await until(
      running,
      'the trainer to window every delivery',
      async () => (await running.metric('continuum_ml_window_deliveries')) === delivered,
    );
    // In its group and MLflow answering: /ready says so.
    const ready = await fetch(`${running.url}/ready`);
    const readiness = (await ready.json()) as Record<string, unknown>;
    expect({ status: ready.status, body: readiness }).toEqual({
      status: 200,
      body: { status: 'ready', consumer: 'reading', mlflow: 'answers' },
    });

    // 3. POST /v1/ml/train through the API, with a key of scope ml.
    api = await startApiServer(apiConfig(config, running.url, modelName), log, {
      host: '127.0.0.1',
      port: 0,
      // The harness's names: its cleanup removes what the API creates (group, table).
      deps: {
        stateTopic: harness.topics.shipmentState,
        telemetryTopic: harness.topics.telemetryRaw,
        postgresSchema: harness.pgSchema,
        groupPrefix: `${harness.applicationPrefix}-api`,
      },
    });
    const requestId = uniqueName('nightly');
    const post = (): Promise<Response> =>
      fetch(`${api?.url}/v1/ml/train`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': ML_KEY },
        body: JSON.stringify({ requestId }),
      });
    const first = await post();
    expect(first.status).toBe(202);
    const job = await waitFor(
      async () => {
        const r = await fetch(`${api?.url}/v1/ml/train/${requestId}`, {
          headers: { 'x-api-key': ML_KEY },
        });
        const body = (await r.json()) as {
          status: string;
          runId: string;
          modelVersion: number;
          promoted: boolean;
          reason: string;
        };
        if (body.status === 'failed' || body.status === 'skipped')
          throw new Error(`training ${body.status}: ${body.reason}`);
        return body.status === 'succeeded' ? body : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'the training to finish' },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${running.tail()}`);
    });
    expect(job.promoted).toBe(true);
    expect(job.modelVersion).toBe(1);

    // 4. MLflow, read back over REST: the run, its params, metrics, artifacts, the version.
    const run = await mlflow.getRun(job.runId);
    expect(run.info.status).toBe('FINISHED');
    const params = new Map(run.data.params?.map((p) => [p.key, p.value]));
    expect(params.get('window_kind')).toBe('sliding');
    expect(Number(params.get('window_deliveries'))).toBe(delivered);
    expect(params.get('features')).toContain('distanceRemainingKm');
    expect(params.get('algorithm')).toMatch(/^(linear|gradient-boosted-trees)$/);
    expect(Number(params.get('n_train_checkpoints'))).toBeGreaterThan(0);
    const metrics = new Map(run.data.metrics?.map((m) => [m.key, m.value]));
    for (const key of [
      'mae',
      'rmse',
      'r2',
      'interval_coverage',
      'baseline_distance_speed_mae',
      'baseline_route_hour_mae',
      'mae_ratio_to_best_baseline',
    ])
      expect(Number.isFinite(metrics.get(key))).toBe(true);
    const tags = new Map(run.data.tags?.map((t) => [t.key, t.value]));
    expect(tags.get(TAGS.requestId)).toBe(requestId);
    expect(tags.get(TAGS.promoted)).toBe('true');
    const files = [
      ...(await mlflow.listArtifacts(job.runId, 'model')),
      ...(await mlflow.listArtifacts(job.runId, 'plots')),
      ...(await mlflow.listArtifacts(job.runId, 'evaluation')),
    ].map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        ARTIFACTS.model,
        ARTIFACTS.mlmodel,
        ARTIFACTS.plot,
        ARTIFACTS.report,
      ]),
    );
    const champion = await mlflow.getVersionByAlias(modelName, CHAMPION_ALIAS);
    expect(champion?.version).toBe(String(job.modelVersion));
    expect(champion?.run_id).toBe(job.runId);
    const listed = (await (
      await fetch(`${api.url}/v1/ml/models`, { headers: { 'x-api-key': ML_KEY } })
    ).json()) as {
      champion: number;
      versions: { version: number; champion: boolean; metrics: { mae: number } }[];
    };
    expect(listed.champion).toBe(job.modelVersion);
    expect(listed.versions[0]).toMatchObject({ version: job.modelVersion, champion: true });
    expect(listed.versions[0]?.metrics.mae).toBe(metrics.get('mae'));

    // 5. The same request id again: the same job, and still one run for it.
    const again = await post();
    expect(again.status).toBe(200);
    expect(((await again.json()) as { runId: string }).runId).toBe(job.runId);
    const experiment = await mlflow.getExperimentByName(modelName);
    const runs = await mlflow.searchRuns({ experimentIds: [experiment?.experiment_id ?? ''] });
    expect(runs.map((r) => r.info.run_id)).toEqual([job.runId]);

    // 6. A standby in the same group gets no partition while the trainer runs; when the
    // trainer dies (no goodbye: its session times out), the standby takes over, rebuilds the
    // window from the committed offsets, finds the champion on eta.models, and answers the
    // same request id with the same run: still one run.
    const standby = await startTrainer();
    const joins = (t: TrainerProcess) => t.metric('continuum_ml_group_events_total{event="join"}');
    await until(standby, 'the standby to join', async () => ((await joins(standby)) ?? 0) >= 1);
    await until(running, 'the trainer to rejoin', async () => ((await joins(running)) ?? 0) >= 2);
    expect(await standby.metric('continuum_ml_window_deliveries')).toBe(0);
    expect(await running.metric('continuum_ml_window_deliveries')).toBe(delivered);
    await running.kill('SIGKILL');
    await until(
      standby,
      'the standby to take over the window',
      async () => (await standby.metric('continuum_ml_window_deliveries')) === delivered,
    );
    expect(await standby.metric('continuum_ml_champion_version')).toBe(job.modelVersion);
    const retried = await fetch(`${standby.url}/train`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestId, requestedBy: 'test' }),
    });
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { runId: string }).runId).toBe(job.runId);
    const runsAfter = await mlflow.searchRuns({ experimentIds: [experiment?.experiment_id ?? ''] });
    expect(runsAfter.map((r) => r.info.run_id)).toEqual([job.runId]);

    // 7. New shipments: the running join serves the champion and stamps its version.
    const serving = await harness.seed(SERVING_RUN);
    await harness.waitUntilSettled(streams, settledOutputs(await foldInputs(harness)), 240_000);
    const newIds = new Set(serving.shipments.map((s) => s.shipmentId));
    const predicted = (await harness.read<UnifiedShipmentState>(harness.topics.shipmentState))
      .map((r) => r.value)
      .filter(
        (s): s is UnifiedShipmentState =>
          s !== undefined && newIds.has(s.shipmentId) && s.modelVersion !== null,
      );
    expect(predicted.length).toBeGreaterThan(0);
    expect(new Set(predicted.map((s) => s.modelVersion))).toEqual(
      new Set([`${modelName}-v${job.modelVersion}`]),
    );
    // The model's interval is the conformal one: it brackets the prediction.
    for (const s of predicted) {
      expect(s.predictionLow).toBeLessThanOrEqual(s.predictedArrival ?? 0);
      expect(s.predictionHigh).toBeGreaterThanOrEqual(s.predictedArrival ?? 0);
    }
  }, 600_000);
});

/** The API of this test: a key of scope ml, the test's trainer and model name. */
function apiConfig(base: Config, trainerUrl: string, modelName: string): Config {
  return {
    ...base,
    api: { ...base.api, keys: parseApiKeys(apiKeyEntryText('trainer', ['ml', 'read'], ML_KEY)) },
    ml: { ...base.ml, trainerUrl, modelName },
  };
}
