// The platform running live under test-only names, as `npm start` runs it: a simulated fleet
// paced in wall time (its simulated time never ahead of the clock) through the CDC source and the
// telemetry SDK, `continuum streams`, the Redis and PostgreSQL sinks, `continuum lag` and the API
// (with the UI) — and the real Prometheus scraping all of them through its file_sd folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { startApiServer, type RunningApi } from '../../../api/server.ts';
import type { Config } from '../../../core/config.ts';
import type { Logger } from '../../../core/logger.ts';
import { startMetricsServer, type MetricsServer } from '../../../core/metrics-server.ts';
import { repoRoot } from '../../../core/paths.ts';
import { waitFor } from '../../../core/wait-for.ts';
import { cdcOptionsFromConfig } from '../../../connectors/sources/postgres-cdc/env.ts';
import { PostgresCdcSource } from '../../../connectors/sources/postgres-cdc/postgres-cdc-source.ts';
import { TelemetryProducer } from '../../../connectors/telemetry-sdk/telemetry-producer.ts';
import { registerValueSchema } from '../../../schemas/event-schemas.ts';
import type { VehicleTelemetry } from '../../../schemas/types.ts';
import { liveSimulatedStart } from '../../../seeder/pacer.ts';
import { liveSpeedup, runSeed, type SeedRunReport } from '../../../seeder/run-seed.ts';
import { PostgresShipmentStore } from '../../../seeder/shipment-store.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../../seeder/simulation.ts';
import { uniqueName } from '../names.ts';
import { PipelineHarness, type StreamsProcess, type TrainerProcess } from './pipeline-harness.ts';
import { freePort } from '../free-port.ts';

export interface LivePipelineOptions {
  /** The fleet: vehicles, faults, telemetry interval; its start is computed (never ahead of now). */
  simulation: Omit<SimulationOptions, 'startTime'>;
  /** Telemetry events per wall-clock second. */
  eventsPerSecond: number;
  /** How long the run is meant to last: simulated time reaches the present as it ends. */
  wallDurationMs: number;
}

export const LIVE_PIPELINE_DEFAULTS: LivePipelineOptions = {
  simulation: {
    ...SIMULATION_DEFAULTS,
    vehicles: 8,
    customers: 20,
    shipments: undefined,
    shipmentsPerHour: 12,
    telemetryIntervalMs: 30_000,
  },
  eventsPerSecond: 30,
  wallDurationMs: 5 * 60_000,
};

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration harness sets it`);
  return value;
}

export class LivePipeline {
  readonly harness: PipelineHarness;
  readonly api: RunningApi;
  /** Labels every target of this run carries in Prometheus (`{pipeline="<id>"}`). */
  readonly id: string;
  private readonly streams: StreamsProcess;
  private readonly cdc: PostgresCdcSource;
  private readonly producer: TelemetryProducer;
  private readonly metrics: MetricsServer;
  private readonly lag: ChildProcess;
  /** `continuum ml` on this run's deliveries: it trains once a small window fills. */
  readonly trainer: TrainerProcess;
  private readonly targetFile: string;
  private readonly abort: AbortController;
  /** Settles when the simulated fleet stops (on stop(), or at its end). */
  readonly seeding: Promise<SeedRunReport | undefined>;

  private constructor(parts: {
    harness: PipelineHarness;
    api: RunningApi;
    id: string;
    streams: StreamsProcess;
    cdc: PostgresCdcSource;
    producer: TelemetryProducer;
    metrics: MetricsServer;
    lag: ChildProcess;
    trainer: TrainerProcess;
    targetFile: string;
    abort: AbortController;
    seeding: Promise<SeedRunReport | undefined>;
  }) {
    this.harness = parts.harness;
    this.api = parts.api;
    this.id = parts.id;
    this.streams = parts.streams;
    this.cdc = parts.cdc;
    this.producer = parts.producer;
    this.metrics = parts.metrics;
    this.lag = parts.lag;
    this.trainer = parts.trainer;
    this.targetFile = parts.targetFile;
    this.abort = parts.abort;
    this.seeding = parts.seeding;
  }

  /** The consumer groups of this run (the lag process measures every group with this prefix). */
  get groupPrefix(): string {
    return this.harness.applicationPrefix;
  }

  static async start(
    config: Config,
    kafka: Kafka,
    log: Logger,
    options: LivePipelineOptions = LIVE_PIPELINE_DEFAULTS,
  ): Promise<LivePipeline> {
    const harness = await PipelineHarness.create(config, kafka, log);
    const id = uniqueName('pipeline');
    const registry = new Registry();
    const streams = await harness.startStreams('exactly-once');
    await harness.startSinks(registry);

    const store = await PostgresShipmentStore.create(harness.pool, harness.pgSchema);
    const cdc = new PostgresCdcSource(
      cdcOptionsFromConfig(config, {
        schema: harness.pgSchema,
        slot: harness.slot,
        publication: harness.publication,
        topic: harness.topics.shipmentsCdc,
      }),
      { log, metricsRegistry: registry },
    );
    await cdc.start();
    const schemaId = await registerValueSchema(
      harness.registry,
      harness.topics.telemetryRaw,
      'VehicleTelemetry',
    );
    const producer = await TelemetryProducer.create({
      config,
      log,
      options: { topic: harness.topics.telemetryRaw },
      registry: harness.registry,
      kafka,
      metricsRegistry: registry,
    });
    const { simulation, eventsPerSecond, wallDurationMs } = options;
    const speedup = liveSpeedup(
      eventsPerSecond,
      simulation.vehicles,
      simulation.telemetryIntervalMs,
    );
    const abort = new AbortController();
    const seeding = runSeed({
      simulation: {
        ...simulation,
        startTime: liveSimulatedStart({ now: Date.now(), speedup, wallDurationMs }),
      },
      mode: { kind: 'live', eventsPerSecond, wallDurationMs: undefined },
      store,
      sink: producer,
      encode: (event: VehicleTelemetry) => harness.registry.encode(schemaId, event),
      log,
      signal: abort.signal,
    }).catch((err: unknown) => {
      if (abort.signal.aborted) return undefined;
      throw err;
    });

    const metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, registry });
    const lagPort = await freePort();
    const lag = spawn(
      `${repoRoot}/node_modules/.bin/node`,
      [
        `${repoRoot}/bin/continuum.js`,
        'lag',
        '--group-prefix',
        harness.applicationPrefix,
        '--metrics-port',
        String(lagPort),
      ],
      { cwd: repoRoot, env: { ...process.env, CONTINUUM_LOG_LEVEL: 'warn' }, stdio: 'ignore' },
    );
    // A model family of its own (MLflow experiment and registry), trained on a tumbling window
    // of the fewest deliveries a training allows, so the model panels get data within minutes.
    const modelName = `eta-${id}`;
    const trainer = await harness.startTrainer({
      CONTINUUM_ML_MODEL_NAME: modelName,
      CONTINUUM_ML_WINDOW: 'tumbling',
      CONTINUUM_ML_WINDOW_MAX_DELIVERIES: '10',
      CONTINUUM_ML_MIN_DELIVERIES: '10',
      CONTINUUM_LOG_LEVEL: 'warn',
    });
    // The API lists that family's versions and sends trainings to that trainer.
    const api = await startApiServer(
      { ...config, ml: { ...config.ml, modelName, trainerUrl: trainer.url } },
      log,
      {
        host: '127.0.0.1',
        port: 0,
        deps: {
          stateTopic: harness.topics.shipmentState,
          telemetryTopic: harness.topics.telemetryRaw,
          redisKeyNamespace: harness.redisKeys.hashPrefix.slice(0, -'shipment:'.length),
          postgresSchema: harness.pgSchema,
          telemetryCollection: uniqueName('test_live_telemetry', '_'),
          lagGroups: new Map([
            [harness.telemetryCleanAppId, 'stream application: telemetry cleaning'],
            [harness.shipmentStateAppId, 'stream application: shipment state join'],
          ]),
          groupPrefix: uniqueName('test-live-api'),
          lagRefreshMs: 1_000,
        },
      },
    );

    // Every process of the run as one file_sd file: Prometheus scrapes them within seconds.
    const host = requiredEnv('CONTINUUM_TEST_SCRAPE_HOST');
    const targetFile = nodePath.join(
      requiredEnv('CONTINUUM_TEST_PROMETHEUS_TARGETS_DIR'),
      `${id}.json`,
    );
    const apiPort = new URL(api.url).port;
    const targets = [
      { targets: [`${host}:${streams.metricsPort}`], labels: { pipeline: id, process: 'streams' } },
      { targets: [`${host}:${metrics.port}`], labels: { pipeline: id, process: 'connect' } },
      { targets: [`${host}:${lagPort}`], labels: { pipeline: id, process: 'lag' } },
      { targets: [`${host}:${apiPort}`], labels: { pipeline: id, process: 'api' } },
      {
        targets: [`${host}:${new URL(trainer.url).port}`],
        labels: { pipeline: id, process: 'ml' },
      },
    ];
    await writeFile(`${targetFile}.partial`, JSON.stringify(targets));
    await rename(`${targetFile}.partial`, targetFile);
    return new LivePipeline({
      harness,
      api,
      id,
      streams,
      cdc,
      producer,
      metrics,
      lag,
      trainer,
      targetFile,
      abort,
      seeding,
    });
  }

  /** Waits until Prometheus has scraped every process of this run at least once. */
  async waitUntilScraped(prometheusUrl: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        const query = `up{pipeline="${this.id}"} == 1`;
        const response = await fetch(
          `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`,
        );
        const body = (await response.json()) as { data?: { result?: unknown[] } };
        return (body.data?.result?.length ?? 0) === 5;
      },
      {
        timeoutMs,
        intervalMs: 1_000,
        description: `Prometheus to scrape the 5 processes of ${this.id}`,
      },
    );
  }

  /**
   * A shipment the API shows on the road (a vehicle, a position, a predicted arrival), at least
   * `minRemainingKm` from its destination: the one with the longest way to go.
   */
  async shipmentOnTheRoad(minRemainingKm = 0, timeoutMs = 180_000): Promise<string> {
    return waitFor(
      async () => {
        const response = await fetch(`${this.api.url}/v1/shipments?status=IN_TRANSIT&limit=200`);
        const page = (await response.json()) as {
          items?: {
            shipmentId: string;
            lat: number | null;
            predictedArrival: number | null;
            distanceRemainingKm: number;
          }[];
        };
        return (page.items ?? [])
          .filter((s) => s.lat !== null && s.predictedArrival !== null)
          .filter((s) => s.distanceRemainingKm >= minRemainingKm)
          .sort((a, b) => b.distanceRemainingKm - a.distanceRemainingKm)[0]?.shipmentId;
      },
      {
        timeoutMs,
        intervalMs: 1_000,
        description: `a shipment in transit with a position, an ETA and ${minRemainingKm} km or more to go`,
      },
    );
  }

  /**
   * Waits until the run's trainer has trained a model version (its window of deliveries filled
   * and the run is in MLflow), and returns what the API lists. On a timeout the error carries
   * how many deliveries the trainer's window holds and its last log lines.
   */
  async trainedModels(
    timeoutMs = 360_000,
  ): Promise<{ champion: number | null; versions: { version: number }[] }> {
    const models = async () =>
      (await (await fetch(`${this.api.url}/v1/ml/models`)).json()) as {
        champion: number | null;
        versions: { version: number }[];
      };
    return waitFor(
      async () => {
        if (this.trainer.exited) throw new Error(`continuum ml exited:\n${this.trainer.tail()}`);
        const body = await models();
        return body.versions.length > 0 ? body : undefined;
      },
      { timeoutMs, intervalMs: 2_000, description: "the run's trainer to train a model" },
    ).catch(async (err: unknown) => {
      const window = await this.trainer
        .metric('continuum_ml_window_deliveries')
        .catch(() => undefined);
      throw new Error(
        `${(err as Error).message}; deliveries in the trainer's window: ${window}; its last lines:\n${this.trainer.tail()}`,
        { cause: err },
      );
    });
  }

  async stop(): Promise<void> {
    await rm(this.targetFile, { force: true });
    this.abort.abort();
    await this.seeding.catch(() => undefined);
    await this.producer.close().catch(() => undefined);
    await this.cdc.stop().catch(() => undefined);
    await this.api.close().catch(() => undefined);
    if (this.lag.exitCode === null) {
      const gone = new Promise((resolve) => this.lag.once('exit', resolve));
      this.lag.kill('SIGTERM');
      await gone;
    }
    await this.metrics.close();
    await this.trainer.kill('SIGTERM');
    await this.streams.kill('SIGTERM');
    await this.harness.cleanup();
  }
}
