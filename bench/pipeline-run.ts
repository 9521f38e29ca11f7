// What the pipeline benchmark's rows share, and the api-lookup benchmark with them: one run's
// clients and clean-up (topics, groups, subjects, and whatever else a row registers, deleted also
// when interrupted), row topics with their schemas, the platform's two topologies started
// exactly-once, the drain levels, and paced freshness readings with the kafkajs baseline.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { createKafkaClient } from '../core/kafka-client.ts';
import type { Logger } from '../core/logger.ts';
import { waitFor } from '../core/wait-for.ts';
import {
  createSchemaRegistry,
  registerValueSchema,
  valueSubject,
  type EventSchemaName,
} from '../schemas/event-schemas.ts';
import {
  platformSchemaIds,
  platformSerdes,
  platformTopologies,
  type PlatformSchemaIds,
} from '../streams/platform-streams.ts';
import { processorMetrics } from '../streams/processor-metrics.ts';
import { repartitionTopic, type Topology } from '../streams/runtime/topology.ts';
import { SHIPMENTS_BY_OWNER, type StreamTopics } from '../streams/topologies.ts';
import type { BenchContext } from './benchmark.ts';
import {
  BenchProgress,
  benchProgressOptions,
  type BenchProgressOptions,
} from './bench-progress.ts';
import {
  pipelineVariant,
  type PipelineSpec,
  type PipelineVariant,
  type StreamsAppFactory,
} from './pipeline-clients.ts';
import {
  BenchScope,
  LatencyProbe,
  PipelineBenchError,
  producePaced,
  type DrainStage,
} from './pipeline-kafka.ts';
import type { PipelineBenchOptions } from './pipeline-options.ts';
import { freshnessReading, freshnessShipments, VehicleEventClock } from './pipeline-records.ts';
import { summarizeLatencies, type LatencySummary } from './pipeline-stats.ts';

/** How long a phase may take before the benchmark gives up (a stuck pipeline, not a slow one). */
export const PHASE_TIMEOUT_MS = 600_000;
const COUNT_TIMEOUT_MS = 120_000;

const TOPIC_SCHEMAS: Record<keyof StreamTopics, EventSchemaName> = {
  telemetryRaw: 'VehicleTelemetry',
  shipmentsCdc: 'ShipmentChange',
  telemetryClean: 'VehicleTelemetry',
  shipmentState: 'UnifiedShipmentState',
  deliveriesCompleted: 'DeliveryExample',
  etaModels: 'EtaModel',
};

/** Every topic of the pipeline: a row that creates them all runs it on topics of its own. */
export const PIPELINE_TOPIC_ROLES = Object.keys(TOPIC_SCHEMAS) as (keyof StreamTopics)[];

/** Schema ids of the topics a row registered (those it created or shares). */
export type SchemaIds = Partial<Record<keyof StreamTopics, number>>;

/** The ids the applications' serdes use, each one required. */
export function rowSchemaIds(ids: SchemaIds): PlatformSchemaIds {
  return platformSchemaIds((role) => schemaId(ids, role));
}

export function schemaId(ids: SchemaIds, role: keyof StreamTopics): number {
  const id = ids[role];
  if (id === undefined)
    throw new PipelineBenchError(`no schema registered for the row's ${role} topic`, {
      context: { role },
    });
  return id;
}

export interface PipelineRun {
  ctx: BenchContext;
  options: PipelineBenchOptions;
  log: Logger;
  /** At warn: the runtime logs every partition assignment and task. */
  quiet: Logger;
  kafka: Kafka;
  registry: SchemaRegistry;
  scope: BenchScope;
  admin: Admin;
  progress: BenchProgressOptions;
  /** Each client × threads way of the options: measured in rows of its own. */
  variants: PipelineVariant[];
  /** Aborted on SIGINT/SIGTERM, so an interrupted run still deletes what it created. */
  interrupted: AbortSignal;
}

/**
 * Opens a run's clients, calls `fn`, then deletes everything the run's scope remembers, also
 * after Ctrl-C (a second one exits at once and leaves what is left behind).
 */
export async function withPipelineRun<T>(
  ctx: BenchContext,
  options: PipelineBenchOptions,
  bench: string,
  fn: (run: PipelineRun) => Promise<T>,
): Promise<T> {
  const log = ctx.log.child({ bench });
  // The runtime logs every partition assignment and task; the benchmark's own lines suffice,
  // unless CONTINUUM_LOG_LEVEL=debug asks for the runtime's every batch and commit too.
  const quiet = log.isLevelEnabled('debug') ? log : log.child({}, { level: 'warn' });
  const kafka = createKafkaClient(ctx.config, `bench-${bench}`, quiet);
  const scope = new BenchScope(kafka, ctx.config.schemaRegistry.url, log);
  const variants = options.clients.flatMap((client) =>
    options.threads.map((threads) =>
      pipelineVariant(client, threads, { config: ctx.config, log: quiet }),
    ),
  );
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means "now": whatever is left stays behind.
    if (interrupt.signal.aborted) process.exit(130);
    log.warn({ signal }, 'interrupted; deleting what the benchmark created');
    interrupt.abort(new PipelineBenchError(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const run: PipelineRun = {
    ctx,
    options,
    log,
    quiet,
    kafka,
    registry: createSchemaRegistry(ctx.config),
    scope,
    admin: scope.admin,
    progress: benchProgressOptions(log),
    variants,
    interrupted: interrupt.signal,
  };
  await scope.admin.connect();
  try {
    return await fn(run);
  } finally {
    for (const variant of variants) await variant.close().catch(() => undefined);
    await scope.cleanup();
    await scope.admin.disconnect();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

export function anyOf(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

// ---------------------------------------------------------------------------------------------
// Topics, schemas, encoding

export async function createRowTopics(
  run: PipelineRun,
  prefix: string,
  roles: readonly (keyof StreamTopics)[],
  shared: Partial<StreamTopics> = {},
): Promise<{ topics: StreamTopics; ids: SchemaIds }> {
  const names: Record<keyof StreamTopics, string> = {
    telemetryRaw: shared.telemetryRaw ?? run.scope.topic(`${prefix}.telemetry.raw`),
    shipmentsCdc: shared.shipmentsCdc ?? run.scope.topic(`${prefix}.shipments.cdc`),
    telemetryClean: shared.telemetryClean ?? run.scope.topic(`${prefix}.telemetry.clean`),
    shipmentState: shared.shipmentState ?? run.scope.topic(`${prefix}.shipment.state`),
    deliveriesCompleted:
      shared.deliveriesCompleted ?? run.scope.topic(`${prefix}.deliveries.completed`),
    etaModels: shared.etaModels ?? run.scope.topic(`${prefix}.eta.models`),
  };
  await run.scope.createTopics(
    roles.map((r) => names[r]),
    run.options.partitions,
  );
  const ids: SchemaIds = {};
  for (const role of Object.keys(names) as (keyof StreamTopics)[]) {
    const topic = names[role];
    // Created here or shared: only those exist; the ids of the others are never used.
    if (!roles.includes(role) && shared[role] === undefined) continue;
    run.scope.subject(valueSubject(topic));
    ids[role] = await registerValueSchema(run.registry, topic, TOPIC_SCHEMAS[role]);
  }
  return { topics: names, ids };
}

export function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
}

// ---------------------------------------------------------------------------------------------
// The pipeline under test

export interface RunningPipeline {
  topologies: readonly [Topology, Topology];
  /** This thread's registry of the applications' Prometheus metrics (records processed, dead letters, aborts). */
  metrics: Registry;
  /** `metrics` with those the applications keep on worker threads of their own, summed. */
  collectMetrics(): Promise<Registry>;
  stop(): Promise<void>;
  /** Aborted with the error when an application stops on one it cannot get past. */
  signal: AbortSignal;
}

/**
 * The platform's two topologies, as `continuum streams` builds them (platformTopologies, with
 * `config`'s processor settings), on a row's topics, with telemetry cleaning's reorder grace
 * `graceMs`. Builds only: `pipelineTopologies` also creates their internal topics.
 */
export function buildPipelineTopologies(
  config: Pick<Config, 'streams' | 'ml'>,
  registry: SchemaRegistry,
  prefix: string,
  topics: StreamTopics,
  ids: SchemaIds,
  graceMs: number,
  /** Where the processors count what they drop on purpose (duplicates, stale readings). */
  metrics?: Registry,
): [Topology, Topology] {
  const [clean, join] = platformTopologies({
    prefix,
    topics,
    streams: config.streams,
    modelName: config.ml.modelName,
    ...(metrics ? { callbacks: processorMetrics(metrics) } : {}),
    clean: { graceMs },
    serdes: platformSerdes(registry, rowSchemaIds(ids)),
  });
  if (!clean || !join) throw new PipelineBenchError('the platform has two stream applications');
  return [clean, join];
}

/** The two topologies on the row's topics, their internal topics created (and remembered). */
export async function pipelineTopologies(
  run: PipelineRun,
  prefix: string,
  topics: StreamTopics,
  ids: SchemaIds,
  metrics?: Registry,
): Promise<PipelineSpec> {
  const topologies = buildPipelineTopologies(
    run.ctx.config,
    run.registry,
    prefix,
    topics,
    ids,
    run.options.graceMs,
    metrics,
  );
  for (const topology of topologies) await run.scope.prepare(topology, run.options.partitions);
  return {
    topologies,
    prefix,
    topics,
    schemaIds: rowSchemaIds(ids),
    graceMs: run.options.graceMs,
  };
}

export async function startPipeline(
  factory: StreamsAppFactory,
  spec: PipelineSpec,
  /** The applications' metrics: pass the registry the topologies' processors count into. */
  metrics = new Registry(),
): Promise<RunningPipeline> {
  const fatal = new AbortController();
  const apps = factory(spec, (error) => fatal.abort(error), metrics);
  const started: typeof apps = [];
  const stop = async (): Promise<void> => {
    for (const app of started.reverse()) await app.stop();
  };
  try {
    for (const app of apps) {
      started.push(app);
      await app.start();
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const collectMetrics = async (): Promise<Registry> => {
    const elsewhere = await Promise.all(
      apps.map(async (app) => (await app.workerMetrics?.()) ?? []),
    );
    if (elsewhere.every((m) => m.length === 0)) return metrics;
    return AggregatorRegistry.aggregate([await metrics.getMetricsAsJSON(), ...elsewhere]);
  };
  return { topologies: spec.topologies, metrics, collectMetrics, stop, signal: fatal.signal };
}

/** What the applications counted: for the notes, so a row that dead-lettered or aborted says so. */
export async function pipelineCounts(pipeline: {
  collectMetrics(): Promise<Registry>;
}): Promise<string> {
  const totals = new Map<string, number>();
  const dropped: string[] = [];
  for (const metric of await (await pipeline.collectMetrics()).getMetricsAsJSON()) {
    const values =
      (metric as { values?: { value: number; labels: Record<string, unknown> }[] }).values ?? [];
    totals.set(
      metric.name,
      values.reduce((n, v) => n + v.value, 0),
    );
    if (metric.name === 'continuum_records_dropped_total')
      for (const v of values)
        if (v.value > 0) dropped.push(`${String(v.labels.reason)} ${v.value}`);
  }
  const count = (name: string): string => String(totals.get(name) ?? 0);
  return `records processed ${count('continuum_records_processed_total')} (both apps, reprocessing included), dead-lettered ${count('continuum_dlq_records_total')}, dropped ${dropped.join(', ') || 'none'}, transactions aborted ${count('continuum_transaction_aborts_total')}`;
}

/** Both applications' inputs, first the external ones, then what the pipeline itself wrote. */
export function pipelineDrainLevels(
  topologies: readonly [Topology, Topology],
  topics: StreamTopics,
): DrainStage[][] {
  const [clean, join] = topologies;
  return [
    [
      { groupId: clean.applicationId, topic: topics.telemetryRaw, transactional: false },
      { groupId: join.applicationId, topic: topics.shipmentsCdc, transactional: false },
    ],
    [
      { groupId: join.applicationId, topic: topics.telemetryClean, transactional: true },
      {
        groupId: join.applicationId,
        topic: repartitionTopic(join.applicationId, SHIPMENTS_BY_OWNER),
        transactional: true,
      },
    ],
  ];
}

/** The freshness fleet's shipments, each in transit on its vehicle, sent to `shipments.cdc`. */
export async function produceFreshnessShipments(
  run: PipelineRun,
  producer: Producer,
  topics: StreamTopics,
  ids: SchemaIds,
): Promise<void> {
  const changes = freshnessShipments(run.options.freshnessVehicles, Date.now());
  await producer.send({
    topic: topics.shipmentsCdc,
    acks: -1,
    messages: await Promise.all(
      changes.map(async (change) => ({
        key: change.after?.shipmentId ?? '',
        value: await run.registry.encode(schemaId(ids, 'shipmentsCdc'), change),
        timestamp: String(change.commitTime),
      })),
    ),
  });
}

// ---------------------------------------------------------------------------------------------
// Freshness

/**
 * Readings paced to `topic`, encoded as they are sent (alike for the pipeline and its baseline);
 * the caller's probe sees what they cause. A warm-up reading per vehicle goes first, until
 * `warmedUp` says it came through. Returns how many readings fell in the measured window.
 */
export async function pacedReadings(
  run: PipelineRun,
  producer: Producer,
  topic: string,
  valueSchemaId: number,
  rate: number,
  probe: LatencyProbe,
  phase: string,
  warmedUp: () => Promise<unknown>,
  /** How long to keep sending after the window: the reorder grace, for a pipeline. */
  tailMs: number,
  /** Probes of intermediate topics, measuring the same window. */
  alsoMeasuring: readonly LatencyProbe[] = [],
): Promise<number> {
  const { options } = run;
  const vehicles = options.freshnessVehicles;
  const origin = Date.now();
  const clock = new VehicleEventClock();
  const reading = async (seq: number, now: number): Promise<Message> => {
    const vehicle = seq % vehicles;
    const event = freshnessReading(vehicle, seq, clock.next(vehicle, now), origin);
    return {
      key: event.vehicleId,
      value: await run.registry.encode(valueSchemaId, event),
      timestamp: String(event.eventTime),
    };
  };
  probe.countFrom(origin);
  const warm = await Promise.all(Array.from({ length: vehicles }, (_, i) => reading(i, origin)));
  await producer.send({ topic, acks: -1, messages: warm });
  await warmedUp();
  const windowMs = options.freshnessSeconds * 1000;
  const from = Date.now();
  for (const p of [probe, ...alsoMeasuring]) p.measure(from, from + windowMs);
  let expected = 0;
  const progress = new BenchProgress(phase, options.freshnessSeconds + tailMs / 1000, run.progress);
  try {
    // With a reorder grace, readings are held until newer ones pass them by that much: keep
    // sending for the grace after the window so every measured reading is released.
    await producePaced(producer, {
      topic,
      ratePerSecond: rate,
      seconds: (windowMs + tailMs) / 1000,
      signal: run.interrupted,
      build: async (seq, now) => {
        const message = await reading(vehicles + seq, now);
        // Counted by the event time stamped (the probe's window is on record timestamps).
        const time = Number(message.timestamp);
        if (time >= from && time < from + windowMs) expected += 1;
        return message;
      },
      progress,
    });
  } finally {
    progress.stop();
  }
  return expected;
}

export async function rawFreshness(run: PipelineRun, rate: number): Promise<LatencySummary> {
  const topic = run.scope.topic('fr.kafkajs');
  await run.scope.createTopics([topic], run.options.partitions);
  run.scope.subject(valueSubject(topic));
  const telemetryId = await registerValueSchema(run.registry, topic, 'VehicleTelemetry');
  const probe = new LatencyProbe(run.kafka, run.scope.group('fr-kafkajs-probe'));
  const producer = idempotentProducer(run.kafka);
  try {
    await producer.connect();
    await probe.start(topic);
    const phase = 'kafkajs produce → consume';
    const expected = await pacedReadings(
      run,
      producer,
      topic,
      telemetryId,
      rate,
      probe,
      phase,
      () =>
        waitFor(() => probe.seen >= run.options.freshnessVehicles, {
          timeoutMs: PHASE_TIMEOUT_MS,
          description: `${phase}: the warm-up readings`,
          signal: run.interrupted,
        }),
      0,
    );
    await waitForCount(probe, expected, phase, run.interrupted);
    return summarizeLatencies(probe.latencies());
  } finally {
    await probe.stop();
    await producer.disconnect();
  }
}

export async function waitForCount(
  probe: LatencyProbe,
  expected: number,
  phase: string,
  signal?: AbortSignal,
): Promise<void> {
  await waitFor(() => probe.count >= expected, {
    // The readings were all sent: what has not arrived within this is lost or stuck.
    timeoutMs: COUNT_TIMEOUT_MS,
    description: `${phase}: ${expected} measured records`,
    signal,
  });
  if (probe.count !== expected)
    throw new PipelineBenchError(`${phase}: ${probe.count} records measured, ${expected} sent`, {
      context: { phase, expected, measured: probe.count },
    });
}
