// The stream pipeline benchmark: the platform's two topologies (telemetry cleaning, then the
// shipment-state join) on StreamsApplication, exactly-once, fed a simulated fleet. Rows:
//  - throughput: events/s from start() until every group committed the end of its inputs
//    (telemetry.raw, shipments.cdc, then telemetry.clean and the repartition the pipeline wrote),
//    and peak RSS; beside it kafkajs copying the same records through two transactional hops,
//    and kafkajs producing them.
//  - freshness: telemetry paced at half the sustained rate (timestamp = event time = send time);
//    per shipment.state record, visible to a read_committed consumer minus the reading's event
//    time, p50/p99; beside it kafkajs produce → read_committed consume of the same records.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import type { StreamTopics } from '../streams/topologies.ts';
import type { BenchFigure, Benchmark } from './benchmark.ts';
import { BenchProgress } from './bench-progress.ts';
import type { PipelineVariant } from './pipeline-clients.ts';
import {
  CopyHop,
  LatencyProbe,
  describeStages,
  PipelineBenchError,
  produceAll,
  RssSampler,
  waitForDrain,
  type OutboundRecord,
} from './pipeline-kafka.ts';
import { resolvePipelineBenchOptions } from './pipeline-options.ts';
import {
  PIPELINE_INPUT_DEFAULTS,
  simulatePipelineInput,
  type PipelineInput,
} from './pipeline-records.ts';
import {
  anyOf,
  createRowTopics,
  idempotentProducer,
  pacedReadings,
  PHASE_TIMEOUT_MS,
  pipelineCounts,
  pipelineDrainLevels,
  PIPELINE_TOPIC_ROLES,
  pipelineTopologies,
  produceFreshnessShipments,
  rawFreshness,
  schemaId,
  startPipeline,
  waitForCount,
  withPipelineRun,
  type PipelineRun,
  type RunningPipeline,
  type SchemaIds,
} from './pipeline-run.ts';
import { mebibytes, summarizeLatencies, type LatencySummary } from './pipeline-stats.ts';

export const pipelineBenchmark: Benchmark = {
  name: 'pipeline',
  run: (ctx) =>
    withPipelineRun(
      ctx,
      resolvePipelineBenchOptions(ctx.options?.pipeline),
      'pipeline',
      async (run) => {
        const figures: BenchFigure[] = [];
        let sustained: Map<string, number> | undefined;
        if (run.options.rows.includes('throughput')) {
          const throughput = await throughputRows(run);
          figures.push(...throughput.figures);
          sustained = throughput.sustained;
        }
        if (run.options.rows.includes('freshness'))
          figures.push(...(await freshnessRows(run, sustained)));
        return figures;
      },
    ),
};

/** Share of the throughput records a warm-up run per client gets. */
const WARM_UP_SHARE = 0.15;

// ---------------------------------------------------------------------------------------------
// Input

async function encode(
  run: PipelineRun,
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
  run: PipelineRun,
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

/** The throughput row's input records at the run's scale. */
function throughputRecords(run: PipelineRun): number {
  return Math.max(100, Math.round(run.options.records * run.ctx.scale));
}

/**
 * Unmeasured warm-up of every client on records of their own (a share of `records`): the first
 * pipeline row of a process otherwise pays for compiling the shared code (processors, Avro,
 * runtime) and came out 20–30 % slower than the same client run second.
 */
async function warmUpClients(run: PipelineRun, records: number): Promise<void> {
  const warm = await produceInput(
    run,
    Math.max(100, Math.round(records * WARM_UP_SHARE)),
    'warm',
    PIPELINE_INPUT_DEFAULTS.seed + 1,
  );
  for (const variant of run.variants) {
    const warmed = await pipelineThroughput(
      run,
      { ...variant, slug: `${variant.slug}-warm` },
      warm.topics,
      warm.total,
    );
    run.log.info(
      { variant: variant.label, seconds: warmed.seconds },
      'pipeline warmed up (not measured)',
    );
  }
}

/**
 * The throughput row of each client of the run alone (warm-up included, no baselines): the
 * sustained events/s another benchmark paces its load by, as the freshness rows here do.
 */
export async function sustainedRates(
  run: PipelineRun,
): Promise<{ rates: Map<string, number>; conditions: string }> {
  const records = throughputRecords(run);
  const input = await produceInput(run, records, 'in');
  await warmUpClients(run, records);
  /** By variant label (`kafkajs client`, `kafkajs client, thread per application`). */
  const rates = new Map<string, number>();
  for (const variant of run.variants) {
    const measured = await pipelineThroughput(run, variant, input.topics, input.total);
    rates.set(variant.label, input.total / measured.seconds);
  }
  return {
    rates,
    conditions: `the pipeline benchmark's throughput row: ${input.total} simulated records (fleet of ${PIPELINE_INPUT_DEFAULTS.vehicles} vehicles, faults on, ${Math.round((100 * input.mix.changes) / input.total)} % ShipmentChange), ${run.options.partitions} partitions, after a warm-up`,
  };
}

async function throughputRows(
  run: PipelineRun,
): Promise<{ figures: BenchFigure[]; sustained: Map<string, number> }> {
  const { options, log } = run;
  const records = throughputRecords(run);
  const {
    topics: inputTopics,
    total,
    mix,
    bytes,
    produceSeconds,
  } = await produceInput(run, records, 'in');
  const produceRate = total / produceSeconds;

  await warmUpClients(run, records);

  const hops = await twoHopBaseline(run, inputTopics, total);
  const hopRate = total / hops.seconds;
  log.info(
    { seconds: hops.seconds, rate: Math.round(hopRate) },
    'kafkajs two-hop baseline measured',
  );

  const sustained = new Map<string, number>();
  const pipelineRuns = new Map<PipelineVariant, Measured>();
  for (const variant of run.variants) {
    const measured = await pipelineThroughput(run, variant, inputTopics, total);
    pipelineRuns.set(variant, measured);
    sustained.set(variant.label, total / measured.seconds);
    log.info(
      {
        variant: variant.label,
        seconds: measured.seconds,
        rate: Math.round(total / measured.seconds),
      },
      'pipeline throughput measured',
    );
  }

  const conditions = `${total} records (${mix.telemetry} VehicleTelemetry, ${mix.malformed} malformed, ${mix.changes} ShipmentChange; simulated fleet, faults on; ${Math.round(bytes / total)} B avg), ${options.partitions} partitions`;
  const hopBaseline = {
    name: 'kafkajs: same records, two transactional consume→produce hops (bytes copied: no Avro, no state)',
    value: hopRate,
  };
  const figures: BenchFigure[] = [];
  for (const [variant, measured] of pipelineRuns) {
    figures.push({
      name: `pipeline throughput, exactly-once (${variant.label})`,
      value: total / measured.seconds,
      unit: 'events/s',
      baseline: hopBaseline,
      notes: `${conditions}; telemetry-clean then shipment-state apps in this process (${variant.threads === 'one' ? 'both on its main thread' : 'a worker thread each'}), Avro decode/encode, changelogged stores; from start() until every group committed the end of telemetry.raw, shipments.cdc, telemetry.clean and the repartition; ${measured.counts ?? ''}`,
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
  for (const [variant, measured] of pipelineRuns) {
    figures.push({
      name: `pipeline peak RSS (${variant.label})`,
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
  run: PipelineRun,
  /** Its slug names the row's topics and groups (a warm-up run has its own). */
  variant: PipelineVariant,
  inputTopics: StreamTopics,
  total: number,
): Promise<Measured> {
  const label = variant.slug;
  const prefix = run.scope.name(`${label}-tp`);
  const { topics, ids } = await createRowTopics(
    run,
    `${label}-tp`,
    ['telemetryClean', 'shipmentState', 'deliveriesCompleted', 'etaModels'],
    { telemetryRaw: inputTopics.telemetryRaw, shipmentsCdc: inputTopics.shipmentsCdc },
  );
  const metrics = new Registry();
  const spec = await pipelineTopologies(run, prefix, topics, ids, metrics);
  const rss = new RssSampler();
  const progress = new BenchProgress(`pipeline (${variant.label})`, total, run.progress);
  const startedAt = Date.now();
  const pipeline = await startPipeline(variant.factory, spec, metrics);
  try {
    const drainedAt = await waitForDrain(
      run.admin,
      pipelineDrainLevels(pipeline.topologies, topics),
      {
        timeoutMs: PHASE_TIMEOUT_MS,
        description: `the ${label} pipeline to process ${total} records`,
        signal: anyOf(pipeline.signal, run.interrupted),
        progress,
      },
    );
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

async function twoHopBaseline(
  run: PipelineRun,
  inputs: StreamTopics,
  total: number,
): Promise<Measured> {
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
  run: PipelineRun,
  sustained: Map<string, number> | undefined,
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
  for (const variant of run.variants) {
    const client = variant.label;
    const measured = await pipelineFreshness(run, variant, rate);
    log.info({ variant: client, ...measured }, 'pipeline freshness measured');
    const notes = `${measured.count} shipment.state records (kafkajs baseline: ${baseline.count} records) from ${Math.round(rate)} telemetry/s paced for ${options.freshnessSeconds} s, ${rateOrigin}; ${options.freshnessVehicles} vehicles each with one shipment in transit, so one state record per reading; reorder grace ${options.graceMs} ms${options.graceMs === 0 ? ' (the platform default, 60 s, adds itself to these figures)' : ''}; max ${Math.round(measured.max)} ms; this process's event-loop delay during the row (the applications, the paced producer and the probes share it) p99 ${Math.round(measured.loopDelay.p99)} ms, max ${Math.round(measured.loopDelay.max)} ms; ${measured.counts}`;
    for (const q of ['p50', 'p99'] as const) {
      figures.push({
        name: `pipeline freshness ${q}: reading event time → shipment.state visible (${client})`,
        value: measured[q],
        unit: 'ms',
        baseline: {
          name: `kafkajs idempotent produce → read_committed consume of the same readings, ${q}`,
          value: baseline[q],
        },
        notes,
      });
    }
    for (const q of ['p50', 'p99'] as const) {
      figures.push({
        name: `pipeline freshness ${q}, first hop: reading event time → telemetry.clean visible (${client})`,
        value: measured.firstHop[q],
        unit: 'ms',
        baseline: {
          name: `kafkajs idempotent produce → read_committed consume of the same readings, ${q}`,
          value: baseline[q],
        },
        notes: `${measured.firstHop.count} telemetry.clean records of the same window; the rest of the figure above is the join's hop`,
      });
    }
  }
  return figures;
}
/** This process's event-loop delay during a freshness row (ms). */
interface LoopDelay {
  p99: number;
  max: number;
}

async function pipelineFreshness(
  run: PipelineRun,
  variant: PipelineVariant,
  rate: number,
): Promise<LatencySummary & { firstHop: LatencySummary; counts: string; loopDelay: LoopDelay }> {
  const client = variant.slug;
  const prefix = run.scope.name(`${client}-fr`);
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  const { topics, ids } = await createRowTopics(run, `${client}-fr`, PIPELINE_TOPIC_ROLES);
  const producer = idempotentProducer(run.kafka);
  const probe = new LatencyProbe(run.kafka, run.scope.group(`${client}-fr-probe`));
  // The first hop's output (telemetry cleaning), so the figures split into the two hops.
  const cleanProbe = new LatencyProbe(run.kafka, run.scope.group(`${client}-fr-clean-probe`));
  let pipeline: RunningPipeline | undefined;
  try {
    await producer.connect();
    await produceFreshnessShipments(run, producer, topics, ids);
    await probe.start(topics.shipmentState);
    await cleanProbe.start(topics.telemetryClean);
    const metrics = new Registry();
    pipeline = await startPipeline(
      variant.factory,
      await pipelineTopologies(run, prefix, topics, ids, metrics),
      metrics,
    );
    const running = pipeline;
    // Whether a late record waited behind this process's event loop (the applications, the
    // paced producer and the probes share it) or on Kafka's round trips.
    loopDelay.enable();
    const phase = `pipeline freshness (${variant.label})`;
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
        waitForDrain(run.admin, pipelineDrainLevels(running.topologies, topics), {
          timeoutMs: PHASE_TIMEOUT_MS,
          description: `${phase}: the warm-up`,
          signal: anyOf(running.signal, run.interrupted),
        }),
      // The window's last readings are released once one newer by the grace reaches their task.
      run.options.graceMs > 0 ? run.options.graceMs + 2_000 : 0,
      [cleanProbe],
    );
    try {
      await waitForCount(probe, expected, phase, anyOf(pipeline.signal, run.interrupted));
      await waitForCount(cleanProbe, expected, `${phase}, first hop`, pipeline.signal);
    } catch (err) {
      // Lost or stuck: say how far each hop got, and what the applications counted.
      throw new PipelineBenchError(
        `${phase}: of ${expected} readings of the window, ${cleanProbe.count} reached telemetry.clean and ${probe.count} shipment.state; ${await pipelineCounts(pipeline)}; ${await describeStages(run.admin, pipelineDrainLevels(pipeline.topologies, topics).flat())}`,
        { cause: err, context: { expected, clean: cleanProbe.count, state: probe.count } },
      );
    }
    return {
      ...summarizeLatencies(probe.latencies()),
      firstHop: summarizeLatencies(cleanProbe.latencies()),
      counts: await pipelineCounts(pipeline),
      loopDelay: {
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
    };
  } finally {
    loopDelay.disable();
    await probe.stop();
    await cleanProbe.stop();
    await pipeline?.stop();
    await producer.disconnect();
  }
}
