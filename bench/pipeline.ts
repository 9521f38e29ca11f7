// The stream pipeline benchmark: the platform's two topologies (telemetry cleaning, then the
// shipment-state join) on StreamsApplication, exactly-once, fed a simulated fleet. Rows:
//  - throughput: events/s from start() until every group committed the end of its inputs
//    (telemetry.raw, shipments.cdc, then telemetry.clean and the repartition the pipeline wrote),
//    and peak RSS; beside it kafkajs copying the same records through two transactional hops,
//    and kafkajs producing them.
//  - freshness: telemetry paced at half the sustained rate (timestamp = event time = send time);
//    per shipment.state record, visible to a read_committed consumer minus the reading's event
//    time, p50/p99; beside it kafkajs produce → read_committed consume of the same records.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { createKafkaClient } from '../core/kafka-client.ts';
import type { Logger } from '../core/logger.ts';
import { waitFor } from '../core/wait-for.ts';
import {
  createSchemaRegistry,
  registerValueSchema,
  valueSubject,
  type EventSchemaName,
} from '../schemas/event-schemas.ts';
import type {
  DeliveryExample,
  EtaModel,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../schemas/types.ts';
import { avroSerde } from '../streams/runtime/serde.ts';
import { repartitionTopic, type Topology } from '../streams/runtime/topology.ts';
import {
  SHIPMENTS_BY_OWNER,
  shipmentStateTopology,
  telemetryCleanTopology,
  type StreamTopics,
} from '../streams/topologies.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import {
  BenchProgress,
  benchProgressOptions,
  type BenchProgressOptions,
} from './bench-progress.ts';
import { streamsAppFactory, type StreamsAppFactory } from './pipeline-clients.ts';
import {
  BenchScope,
  CopyHop,
  LatencyProbe,
  PipelineBenchError,
  produceAll,
  producePaced,
  RssSampler,
  waitForDrain,
  type DrainStage,
  type OutboundRecord,
} from './pipeline-kafka.ts';
import {
  resolvePipelineBenchOptions,
  type PipelineBenchOptions,
  type PipelineClient,
} from './pipeline-options.ts';
import {
  freshnessReading,
  freshnessShipments,
  PIPELINE_INPUT_DEFAULTS,
  simulatePipelineInput,
  type PipelineInput,
} from './pipeline-records.ts';
import { mebibytes, summarizeLatencies, type LatencySummary } from './pipeline-stats.ts';

export const pipelineBenchmark: Benchmark = {
  name: 'pipeline',
  run: (ctx) => runPipelineBenchmark(ctx, resolvePipelineBenchOptions(ctx.options?.pipeline)),
};

/** How long a phase may take before the benchmark gives up (a stuck pipeline, not a slow one). */
const PHASE_TIMEOUT_MS = 600_000;
const COUNT_TIMEOUT_MS = 120_000;
/** Share of the throughput records a warm-up run per client gets. */
const WARM_UP_SHARE = 0.15;

const TOPIC_SCHEMAS: Record<keyof StreamTopics, EventSchemaName> = {
  telemetryRaw: 'VehicleTelemetry',
  shipmentsCdc: 'ShipmentChange',
  telemetryClean: 'VehicleTelemetry',
  shipmentState: 'UnifiedShipmentState',
  deliveriesCompleted: 'DeliveryExample',
  etaModels: 'EtaModel',
};

/** Schema ids of the topics a row registered (those it created or shares). */
type SchemaIds = Partial<Record<keyof StreamTopics, number>>;

function schemaId(ids: SchemaIds, role: keyof StreamTopics): number {
  const id = ids[role];
  if (id === undefined)
    throw new PipelineBenchError(`no schema registered for the row's ${role} topic`, {
      context: { role },
    });
  return id;
}

interface Run {
  ctx: BenchContext;
  options: PipelineBenchOptions;
  log: Logger;
  kafka: Kafka;
  registry: SchemaRegistry;
  scope: BenchScope;
  admin: Admin;
  progress: BenchProgressOptions;
  factories: Map<PipelineClient, StreamsAppFactory>;
  /** Aborted on SIGINT/SIGTERM, so an interrupted run still deletes what it created. */
  interrupted: AbortSignal;
}

async function runPipelineBenchmark(
  ctx: BenchContext,
  options: PipelineBenchOptions,
): Promise<BenchFigure[]> {
  const log = ctx.log.child({ bench: 'pipeline' });
  // The runtime logs every partition assignment and task; the benchmark's own lines suffice.
  const quiet = log.child({}, { level: 'warn' });
  const kafka = createKafkaClient(ctx.config, 'bench-pipeline', quiet);
  const scope = new BenchScope(kafka, ctx.config.schemaRegistry.url, log);
  const factories = new Map<PipelineClient, StreamsAppFactory>(
    options.clients.map((client) => [
      client,
      streamsAppFactory(client, { config: ctx.config, log: quiet }),
    ]),
  );
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means "now": whatever is left stays behind.
    if (interrupt.signal.aborted) process.exit(130);
    log.warn({ signal }, 'interrupted; deleting the benchmark topics, groups and subjects');
    interrupt.abort(new PipelineBenchError(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const run: Run = {
    ctx,
    options,
    log,
    kafka,
    registry: createSchemaRegistry(ctx.config),
    scope,
    admin: scope.admin,
    progress: benchProgressOptions(log),
    factories,
    interrupted: interrupt.signal,
  };
  await scope.admin.connect();
  try {
    const figures: BenchFigure[] = [];
    let sustained: Map<PipelineClient, number> | undefined;
    if (options.rows.includes('throughput')) {
      const throughput = await throughputRows(run);
      figures.push(...throughput.figures);
      sustained = throughput.sustained;
    }
    if (options.rows.includes('freshness')) figures.push(...(await freshnessRows(run, sustained)));
    return figures;
  } finally {
    await scope.cleanup();
    await scope.admin.disconnect();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

function anyOf(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

// ---------------------------------------------------------------------------------------------
// Topics, schemas, encoding

async function createRowTopics(
  run: Run,
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

async function encode(
  run: Run,
  topics: StreamTopics,
  ids: SchemaIds,
  input: PipelineInput,
): Promise<OutboundRecord> {
  const timestamp = String(input.timestamp);
  switch (input.kind) {
    case 'telemetry':
      return {
        topic: topics.telemetryRaw,
        message: {
          key: input.key,
          value: await run.registry.encode(schemaId(ids, 'telemetryRaw'), input.event),
          timestamp,
        },
      };
    case 'telemetry-raw':
      return {
        topic: topics.telemetryRaw,
        message: { key: input.key, value: input.bytes, timestamp },
      };
    case 'shipment-change':
      return {
        topic: topics.shipmentsCdc,
        message: {
          key: input.key,
          value: await run.registry.encode(schemaId(ids, 'shipmentsCdc'), input.change),
          timestamp,
        },
      };
  }
}

function idempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
}

// ---------------------------------------------------------------------------------------------
// The pipeline under test

interface RunningPipeline {
  topologies: [Topology, Topology];
  /** The applications' Prometheus metrics (records processed, dead letters, aborts). */
  metrics: Registry;
  stop(): Promise<void>;
  /** Aborted with the error when an application stops on one it cannot get past. */
  signal: AbortSignal;
}

/** The platform's two topologies, as `continuum streams` builds them, on the row's topics. */
async function pipelineTopologies(
  run: Run,
  prefix: string,
  topics: StreamTopics,
  ids: SchemaIds,
): Promise<[Topology, Topology]> {
  const r = run.registry;
  const topologies: [Topology, Topology] = [
    telemetryCleanTopology({
      applicationId: `${prefix}-telemetry-clean`,
      topics,
      telemetrySerde: avroSerde<VehicleTelemetry>(r, schemaId(ids, 'telemetryClean')),
      clean: { graceMs: run.options.graceMs },
    }),
    shipmentStateTopology({
      applicationId: `${prefix}-shipment-state`,
      topics,
      serdes: {
        shipmentChange: avroSerde<ShipmentChange>(r, schemaId(ids, 'shipmentsCdc')),
        telemetry: avroSerde<VehicleTelemetry>(r, schemaId(ids, 'telemetryClean')),
        shipmentState: avroSerde<UnifiedShipmentState>(r, schemaId(ids, 'shipmentState')),
        deliveryExample: avroSerde<DeliveryExample>(r, schemaId(ids, 'deliveriesCompleted')),
        etaModel: avroSerde<EtaModel>(r, schemaId(ids, 'etaModels')),
      },
    }),
  ];
  for (const topology of topologies) await run.scope.prepare(topology, run.options.partitions);
  return topologies;
}

async function startPipeline(
  factory: StreamsAppFactory,
  topologies: [Topology, Topology],
): Promise<RunningPipeline> {
  const fatal = new AbortController();
  const metrics = new Registry();
  const apps = factory(topologies, (error) => fatal.abort(error), metrics);
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
  return { topologies, metrics, stop, signal: fatal.signal };
}

/** What the applications counted: for the notes, so a row that dead-lettered or aborted says so. */
async function pipelineCounts(pipeline: RunningPipeline): Promise<string> {
  const totals = new Map<string, number>();
  for (const metric of await pipeline.metrics.getMetricsAsJSON()) {
    const values = (metric as { values?: { value: number }[] }).values ?? [];
    totals.set(
      metric.name,
      values.reduce((n, v) => n + v.value, 0),
    );
  }
  const count = (name: string): string => String(totals.get(name) ?? 0);
  return `records processed ${count('continuum_records_processed_total')} (both apps, reprocessing included), dead-lettered ${count('continuum_dlq_records_total')}, transactions aborted ${count('continuum_transaction_aborts_total')}`;
}

/** Both applications' inputs, first the external ones, then what the pipeline itself wrote. */
function pipelineDrainLevels(pipeline: RunningPipeline, topics: StreamTopics): DrainStage[][] {
  const [clean, join] = pipeline.topologies;
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

// ---------------------------------------------------------------------------------------------
// Throughput

interface Measured {
  seconds: number;
  peakRssBytes: number;
  startRssBytes: number;
  /** What the applications counted (pipeline rows only). */
  counts?: string;
}

interface ProducedInput {
  topics: StreamTopics;
  total: number;
  mix: { telemetry: number; malformed: number; changes: number };
  bytes: number;
  produceSeconds: number;
}

/**
 * Simulates, encodes and produces the throughput input. Its records are dropped on return, so
 * the rows after it run without them in memory.
 */
async function produceInput(
  run: Run,
  records: number,
  role: string,
  seed?: number,
): Promise<ProducedInput> {
  const inputs = await simulatePipelineInput(records, seed === undefined ? {} : { seed });
  const { topics, ids } = await createRowTopics(run, role, ['telemetryRaw', 'shipmentsCdc']);
  const encoded = await Promise.all(inputs.map((i) => encode(run, topics, ids, i)));
  // One topic after the other, so produce requests are as full as a source's would be.
  const outbound = [
    ...encoded.filter((o) => o.topic === topics.telemetryRaw),
    ...encoded.filter((o) => o.topic === topics.shipmentsCdc),
  ];
  const mix = {
    telemetry: inputs.filter((i) => i.kind === 'telemetry').length,
    malformed: inputs.filter((i) => i.kind === 'telemetry-raw').length,
    changes: inputs.filter((i) => i.kind === 'shipment-change').length,
  };
  const bytes = outbound.reduce((n, o) => n + ((o.message.value as Buffer | null)?.length ?? 0), 0);
  run.log.info({ records: outbound.length, ...mix, bytes }, 'pipeline input simulated and encoded');

  const producer = idempotentProducer(run.kafka);
  await producer.connect();
  const progress = new BenchProgress(
    `produce ${role} input (kafkajs)`,
    outbound.length,
    run.progress,
  );
  try {
    const produceSeconds = await produceAll(producer, outbound, progress);
    run.log.info(
      {
        records: outbound.length,
        seconds: produceSeconds,
        rate: Math.round(outbound.length / produceSeconds),
      },
      'input produced',
    );
    return { topics, total: outbound.length, mix, bytes, produceSeconds };
  } finally {
    progress.stop();
    await producer.disconnect();
  }
}

async function throughputRows(
  run: Run,
): Promise<{ figures: BenchFigure[]; sustained: Map<PipelineClient, number> }> {
  const { options, log } = run;
  const records = Math.max(100, Math.round(options.records * run.ctx.scale));
  const {
    topics: inputTopics,
    total,
    mix,
    bytes,
    produceSeconds,
  } = await produceInput(run, records, 'in');
  const produceRate = total / produceSeconds;

  // Unmeasured warm-up of every client on other records: the first pipeline row of a process
  // otherwise pays for compiling the shared code (processors, Avro, runtime) and came out
  // 20–30 % slower than the same client run second.
  const warm = await produceInput(
    run,
    Math.max(100, Math.round(records * WARM_UP_SHARE)),
    'warm',
    PIPELINE_INPUT_DEFAULTS.seed + 1,
  );
  for (const [client, factory] of run.factories) {
    const warmed = await pipelineThroughput(
      run,
      `${client}-warm`,
      factory,
      warm.topics,
      warm.total,
    );
    log.info({ client, seconds: warmed.seconds }, 'pipeline warmed up (not measured)');
  }

  const hops = await twoHopBaseline(run, inputTopics, total);
  const hopRate = total / hops.seconds;
  log.info(
    { seconds: hops.seconds, rate: Math.round(hopRate) },
    'kafkajs two-hop baseline measured',
  );

  const sustained = new Map<PipelineClient, number>();
  const pipelineRuns = new Map<PipelineClient, Measured>();
  for (const [client, factory] of run.factories) {
    const measured = await pipelineThroughput(run, client, factory, inputTopics, total);
    pipelineRuns.set(client, measured);
    sustained.set(client, total / measured.seconds);
    log.info(
      { client, seconds: measured.seconds, rate: Math.round(total / measured.seconds) },
      'pipeline throughput measured',
    );
  }

  const conditions = `${total} records (${mix.telemetry} VehicleTelemetry, ${mix.malformed} malformed, ${mix.changes} ShipmentChange; simulated fleet, faults on; ${Math.round(bytes / total)} B avg), ${options.partitions} partitions`;
  const hopBaseline = {
    name: 'kafkajs: same records, two transactional consume→produce hops (bytes copied: no Avro, no state)',
    value: hopRate,
  };
  const figures: BenchFigure[] = [];
  for (const [client, measured] of pipelineRuns) {
    figures.push({
      name: `pipeline throughput, exactly-once (${client} client)`,
      value: total / measured.seconds,
      unit: 'events/s',
      baseline: hopBaseline,
      notes: `${conditions}; telemetry-clean then shipment-state apps in this process, Avro decode/encode, changelogged stores; from start() until every group committed the end of telemetry.raw, shipments.cdc, telemetry.clean and the repartition; ${measured.counts ?? ''}`,
    });
  }
  figures.push({
    name: 'kafkajs two transactional consume→produce hops',
    value: hopRate,
    unit: 'events/s',
    baseline: {
      name: 'kafkajs idempotent produce of the same records (acks=all)',
      value: produceRate,
    },
    notes: `${conditions}; hop 1 telemetry.raw → mid, hop 2 shipments.cdc + mid → out; a transaction per fetched batch with its offsets, as the runtime`,
  });
  for (const [client, measured] of pipelineRuns) {
    figures.push({
      name: `pipeline peak RSS (${client} client)`,
      value: mebibytes(measured.peakRssBytes),
      unit: 'MiB',
      baseline: {
        name: 'peak RSS during the kafkajs two-hop row',
        value: mebibytes(hops.peakRssBytes),
      },
      notes: `RSS of the whole benchmark process (pipeline, probe and kafkajs admin in one process), sampled every 200 ms; ${Math.round(mebibytes(measured.startRssBytes))} MiB at the row's start (two-hop row: ${Math.round(mebibytes(hops.startRssBytes))} MiB); rows run one after another, so later rows start on the heap earlier ones grew`,
    });
  }
  return { figures, sustained };
}

async function pipelineThroughput(
  run: Run,
  /** The client, for names and messages (a warm-up run has its own). */
  label: string,
  factory: StreamsAppFactory,
  inputTopics: StreamTopics,
  total: number,
): Promise<Measured> {
  const prefix = run.scope.name(`${label}-tp`);
  const { topics, ids } = await createRowTopics(
    run,
    `${label}-tp`,
    ['telemetryClean', 'shipmentState', 'deliveriesCompleted', 'etaModels'],
    { telemetryRaw: inputTopics.telemetryRaw, shipmentsCdc: inputTopics.shipmentsCdc },
  );
  const topologies = await pipelineTopologies(run, prefix, topics, ids);
  const rss = new RssSampler();
  const progress = new BenchProgress(`pipeline (${label})`, total, run.progress);
  const startedAt = Date.now();
  const pipeline = await startPipeline(factory, topologies);
  try {
    const drainedAt = await waitForDrain(run.admin, pipelineDrainLevels(pipeline, topics), {
      timeoutMs: PHASE_TIMEOUT_MS,
      description: `the ${label} pipeline to process ${total} records`,
      signal: anyOf(pipeline.signal, run.interrupted),
      progress,
    });
    return {
      seconds: (drainedAt - startedAt) / 1000,
      peakRssBytes: rss.stop(),
      startRssBytes: rss.startBytes,
      counts: await pipelineCounts(pipeline),
    };
  } finally {
    progress.stop();
    rss.stop();
    await pipeline.stop();
  }
}

async function twoHopBaseline(run: Run, inputs: StreamTopics, total: number): Promise<Measured> {
  const mid = run.scope.topic('hop.mid');
  const out = run.scope.topic('hop.out');
  await run.scope.createTopics([mid, out], run.options.partitions);
  const first = run.scope.group('hop1');
  const second = run.scope.group('hop2');
  const hops = [
    new CopyHop(run.kafka, first, [inputs.telemetryRaw], mid, run.log),
    new CopyHop(run.kafka, second, [inputs.shipmentsCdc, mid], out, run.log),
  ];
  const rss = new RssSampler();
  const progress = new BenchProgress('kafkajs two hops', total, run.progress);
  const startedAt = Date.now();
  const started: CopyHop[] = [];
  try {
    for (const hop of hops) {
      started.push(hop);
      await hop.start();
    }
    const drainedAt = await waitForDrain(
      run.admin,
      [
        [
          { groupId: first, topic: inputs.telemetryRaw, transactional: false },
          { groupId: second, topic: inputs.shipmentsCdc, transactional: false },
        ],
        [{ groupId: second, topic: mid, transactional: true }],
      ],
      {
        timeoutMs: PHASE_TIMEOUT_MS,
        description: `two kafkajs hops to copy ${total} records`,
        signal: run.interrupted,
        progress,
      },
    );
    return {
      seconds: (drainedAt - startedAt) / 1000,
      peakRssBytes: rss.stop(),
      startRssBytes: rss.startBytes,
    };
  } finally {
    progress.stop();
    rss.stop();
    for (const hop of started.reverse()) await hop.stop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Freshness

async function freshnessRows(
  run: Run,
  sustained: Map<PipelineClient, number> | undefined,
): Promise<BenchFigure[]> {
  const { options, log } = run;
  const lowest = sustained && sustained.size > 0 ? Math.min(...sustained.values()) : undefined;
  const rate = options.freshnessRate ?? (lowest === undefined ? undefined : lowest / 2);
  if (rate === undefined)
    throw new PipelineBenchError(
      'the freshness rows need a rate: run the throughput rows too, or give --freshness-rate',
    );
  const rateOrigin =
    options.freshnessRate === undefined
      ? `half the lowest sustained rate measured above (${Math.round(lowest ?? 0)} events/s)`
      : 'as given (--freshness-rate)';
  log.info(
    { rate: Math.round(rate), seconds: options.freshnessSeconds },
    'freshness rows starting',
  );

  const baseline = await rawFreshness(run, rate);
  log.info({ ...baseline }, 'kafkajs produce → consume latency measured');
  const figures: BenchFigure[] = [];
  for (const [client, factory] of run.factories) {
    const measured = await pipelineFreshness(run, client, factory, rate);
    log.info({ client, ...measured }, 'pipeline freshness measured');
    const notes = `${measured.count} shipment.state records (kafkajs baseline: ${baseline.count} records) from ${Math.round(rate)} telemetry/s paced for ${options.freshnessSeconds} s, ${rateOrigin}; ${options.freshnessVehicles} vehicles each with one shipment in transit, so one state record per reading; reorder grace ${options.graceMs} ms${options.graceMs === 0 ? ' (the platform default, 60 s, adds itself to these figures)' : ''}; max ${Math.round(measured.max)} ms; ${measured.counts}`;
    for (const q of ['p50', 'p99'] as const) {
      figures.push({
        name: `pipeline freshness ${q}: reading event time → shipment.state visible (${client} client)`,
        value: measured[q],
        unit: 'ms',
        baseline: {
          name: `kafkajs idempotent produce → read_committed consume of the same readings, ${q}`,
          value: baseline[q],
        },
        notes,
      });
    }
  }
  return figures;
}

/**
 * Readings paced to `topic`, encoded as they are sent (alike for the pipeline and its baseline);
 * the caller's probe sees what they cause. A warm-up reading per vehicle goes first, until
 * `warmedUp` says it came through. Returns how many readings fell in the measured window.
 */
async function pacedReadings(
  run: Run,
  producer: Producer,
  topic: string,
  valueSchemaId: number,
  rate: number,
  probe: LatencyProbe,
  phase: string,
  warmedUp: () => Promise<unknown>,
  /** How long to keep sending after the window: the reorder grace, for a pipeline. */
  tailMs: number,
): Promise<number> {
  const { options } = run;
  const vehicles = options.freshnessVehicles;
  const origin = Date.now();
  const reading = async (seq: number, now: number): Promise<Message> => {
    const event = freshnessReading(seq % vehicles, seq, now, origin);
    return {
      key: event.vehicleId,
      value: await run.registry.encode(valueSchemaId, event),
      timestamp: String(now),
    };
  };
  probe.countFrom(origin);
  const warm = await Promise.all(Array.from({ length: vehicles }, (_, i) => reading(i, origin)));
  await producer.send({ topic, acks: -1, messages: warm });
  await warmedUp();
  const windowMs = options.freshnessSeconds * 1000;
  const from = Date.now();
  probe.measure(from, from + windowMs);
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
      build: (seq, now) => {
        if (now >= from && now < from + windowMs) expected += 1;
        return reading(vehicles + seq, now);
      },
      progress,
    });
  } finally {
    progress.stop();
  }
  return expected;
}

async function rawFreshness(run: Run, rate: number): Promise<LatencySummary> {
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

async function pipelineFreshness(
  run: Run,
  client: PipelineClient,
  factory: StreamsAppFactory,
  rate: number,
): Promise<LatencySummary & { counts: string }> {
  const prefix = run.scope.name(`${client}-fr`);
  const { topics, ids } = await createRowTopics(run, `${client}-fr`, [
    'telemetryRaw',
    'shipmentsCdc',
    'telemetryClean',
    'shipmentState',
    'deliveriesCompleted',
    'etaModels',
  ]);
  const producer = idempotentProducer(run.kafka);
  const probe = new LatencyProbe(run.kafka, run.scope.group(`${client}-fr-probe`));
  let pipeline: RunningPipeline | undefined;
  try {
    await producer.connect();
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
    await probe.start(topics.shipmentState);
    pipeline = await startPipeline(factory, await pipelineTopologies(run, prefix, topics, ids));
    const running = pipeline;
    const phase = `pipeline freshness (${client})`;
    // Warm-up: every group has committed all it was given (shipments in transit on their
    // vehicles, a reading per vehicle), so the measured readings meet a running pipeline.
    const expected = await pacedReadings(
      run,
      producer,
      topics.telemetryRaw,
      schemaId(ids, 'telemetryRaw'),
      rate,
      probe,
      phase,
      () =>
        waitForDrain(run.admin, pipelineDrainLevels(running, topics), {
          timeoutMs: PHASE_TIMEOUT_MS,
          description: `${phase}: the warm-up`,
          signal: anyOf(running.signal, run.interrupted),
        }),
      // The window's last readings are released once one newer by the grace reaches their task.
      run.options.graceMs > 0 ? run.options.graceMs + 2_000 : 0,
    );
    await waitForCount(probe, expected, phase, anyOf(pipeline.signal, run.interrupted));
    return { ...summarizeLatencies(probe.latencies()), counts: await pipelineCounts(pipeline) };
  } finally {
    await probe.stop();
    await pipeline?.stop();
    await producer.disconnect();
  }
}

async function waitForCount(
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
