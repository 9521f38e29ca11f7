// Results depend on event time only. One simulated run (dozens of vehicles, hours of simulated
// time, the simulator's faults) is captured from shipments.cdc and telemetry.raw, then written
// again, record for record, into fresh topics: (a) paced as live, (b) as one burst (every
// shipment change before any telemetry: the race that gave wrong positions and empty training
// examples), and (c) replayed after `continuum streams reset` on (b)'s topics. Each run's last
// state per shipment and its training examples must equal the offline fold of the same inputs,
// field by field, and so each other; versions only rise in shipment.state. (b) and (c) run with
// the stores on disk, (a) in memory; (b) on the runtime's @platformatic/kafka client, (a) and (c)
// on kafkajs: the same results whichever client and store.
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { FAULT_DEFAULTS } from '../../seeder/faults.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../seeder/simulation.ts';
import type { DeliveryExample, UnifiedShipmentState } from '../../schemas/types.ts';
import { createKafka } from '../support/kafka.ts';
import {
  captureInputs,
  produceBurst,
  producePaced,
  type CapturedInputs,
} from '../support/pipeline/input-replay.ts';
import { firstLines, foldInputs, settledOutputs } from '../support/pipeline/pipeline-checks.ts';
import { PipelineHarness, type DecodedRecord } from '../support/pipeline/pipeline-harness.ts';
import {
  diffFields,
  diffShipmentState,
  type PipelineFold,
} from '../support/pipeline/reference-fold.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const MIN = 60_000;

/** Small enough for CI, big enough to mean something: 24 vehicles, three simulated hours. */
const SIMULATION: SimulationOptions = {
  ...SIMULATION_DEFAULTS,
  seed: 20_261_205,
  vehicles: 24,
  shipments: 48,
  customers: 30,
  durationMs: 3 * 3_600_000,
  faults: FAULT_DEFAULTS,
};

/** Event time runs this many times faster than the wall clock in the paced run. */
const LIVE_SPEEDUP = 600;

interface RunResult {
  label: string;
  /** Last state per shipment (log order), topic names in sourceOffsets made neutral. */
  states: Map<string, UnifiedShipmentState>;
  examples: Map<string, DeliveryExample>;
  problems: string[];
}

/** sourceOffsets cite topics by name; runs on different topics compare by role. */
function neutral(state: UnifiedShipmentState, harness: PipelineHarness): UnifiedShipmentState {
  const names: [string, string][] = [
    [harness.topics.shipmentsCdc, 'shipments.cdc'],
    [harness.topics.telemetryRaw, 'telemetry.raw'],
  ];
  return {
    ...state,
    sourceOffsets: Object.fromEntries(
      Object.entries(state.sourceOffsets).map(([key, offset]) => {
        const role = names.find(([name]) => key.startsWith(`${name}-`));
        return [role ? key.replace(role[0], role[1]) : key, offset];
      }),
    ),
  };
}

/**
 * Reads the run's outputs (those after `from`, per partition, when given) and holds them
 * against the fold.
 */
async function resultOf(
  label: string,
  harness: PipelineHarness,
  fold: PipelineFold,
  from?: { states: Map<number, number>; examples: Map<number, number> },
): Promise<RunResult> {
  const after = <T>(records: DecodedRecord<T>[], ends?: Map<number, number>) =>
    records.filter((r) => r.value !== undefined && r.offset >= (ends?.get(r.partition) ?? 0));
  const stateRecords = after(
    await harness.read<UnifiedShipmentState>(harness.topics.shipmentState),
    from?.states,
  );
  const exampleRecords = after(
    await harness.read<DeliveryExample>(harness.topics.deliveriesCompleted),
    from?.examples,
  );
  const problems: string[] = [];
  const states = new Map<string, UnifiedShipmentState>();
  const highest = new Map<string, number>();
  for (const { value, partition, offset } of stateRecords) {
    const s = value as UnifiedShipmentState;
    const before = highest.get(s.shipmentId);
    if (before !== undefined && s.version <= before)
      problems.push(
        `${label}: ${s.shipmentId} v${s.version} at ${partition}@${offset} after v${before}`,
      );
    highest.set(s.shipmentId, s.version);
    states.set(s.shipmentId, s);
  }
  for (const [id, expectation] of fold.expected) {
    const got = states.get(id);
    if (!got) problems.push(`${label}: ${id} has no state`);
    else problems.push(...diffShipmentState(expectation, got).map((d) => `${label}: ${d}`));
  }
  const examples = new Map<string, DeliveryExample>();
  for (const { value } of exampleRecords) {
    const e = value as DeliveryExample;
    if (examples.has(e.shipmentId)) problems.push(`${label}: ${e.shipmentId} has two examples`);
    examples.set(e.shipmentId, e);
  }
  for (const [id, want] of fold.examples) {
    const got = examples.get(id);
    if (!got) problems.push(`${label}: no example for ${id}`);
    else problems.push(...diffFields(`${label}: example ${id}`, want, got));
  }
  for (const id of examples.keys())
    if (!fold.examples.has(id)) problems.push(`${label}: unexpected example for ${id}`);
  return {
    label,
    states: new Map([...states].map(([id, s]) => [id, neutral(s, harness)])),
    examples,
    problems,
  };
}

async function endOffsets(harness: PipelineHarness, topic: string): Promise<Map<number, number>> {
  const ends = await harness.progress('(none)', topic);
  return new Map([...ends.ends].map(([p, e]) => [p, e.high]));
}

describe('stream pipeline determinism: live, burst and replay give the same results', () => {
  let kafka: Kafka;
  const harnesses: PipelineHarness[] = [];
  const newHarness = async (): Promise<PipelineHarness> => {
    const harness = await PipelineHarness.create(config, kafka, log);
    harnesses.push(harness);
    return harness;
  };

  beforeAll(() => {
    kafka = createKafka(config, 'pipeline-determinism');
  });

  afterAll(async () => {
    for (const harness of harnesses) await harness.cleanup();
  });

  it('equals the event-time fold of the same inputs, whichever way they arrive', async () => {
    // The inputs, once: the simulator through PostgreSQL and CDC, telemetry through the SDK.
    const source = await newHarness();
    await source.seed(SIMULATION);
    const inputs: CapturedInputs = await captureInputs(source);

    // (a) paced as live, the pipeline running.
    const live = await newHarness();
    const liveStreams = await live.startStreams('exactly-once');
    await producePaced(kafka, live.topics, inputs, LIVE_SPEEDUP);
    const liveFold = await foldInputs(live);
    await live.waitUntilSettled(liveStreams, settledOutputs(liveFold), 180_000);
    await liveStreams.kill('SIGTERM');
    const a = await resultOf('live', live, liveFold);

    // (b) one burst: every change first, then all telemetry.
    const burst = await newHarness();
    // The burst and its replay keep their stores on disk (the live run in memory), and the burst
    // runs on the other client: the same results either way.
    burst.streamsClient = 'platformatic';
    const burstStreams = await burst.startStreams('exactly-once', 'disk');
    await produceBurst(kafka, burst.topics, inputs);
    const burstFold = await foldInputs(burst);
    await burst.waitUntilSettled(burstStreams, settledOutputs(burstFold), 180_000);
    await burstStreams.kill('SIGTERM');
    const b = await resultOf('burst', burst, burstFold);

    // (c) the burst's topics replayed after `continuum streams reset`.
    const before = {
      states: await endOffsets(burst, burst.topics.shipmentState),
      examples: await endOffsets(burst, burst.topics.deliveriesCompleted),
    };
    // The reset deletes the stores on disk the burst's clean stop checkpointed.
    expect(await burst.resetStreams()).toMatch(/state on disk deleted/);
    burst.streamsClient = 'kafkajs';
    const replayStreams = await burst.startStreams('exactly-once', 'disk');
    await burst.waitUntilSettled(replayStreams, settledOutputs(burstFold), 180_000);
    // The replay's examples are a second copy on deliveries.completed: wait for all of them.
    await burst.waitUntilOutputsAfter(before.examples, burstFold.examples.size, 180_000);
    await replayStreams.kill('SIGTERM');
    const c = await resultOf('replay', burst, burstFold, before);

    const summary = {
      inputs: inputs.records.length,
      simulatedHours: (inputs.lastEventTime - inputs.firstEventTime) / 3_600_000,
      shipments: burstFold.expected.size,
      delivered: burstFold.delivered.length,
      examples: burstFold.examples.size,
      checkpoints: [...burstFold.examples.values()].reduce((n, e) => n + e.checkpoints.length, 0),
      dlq: burstFold.telemetry.rejected.length + burstFold.shipments.rejected.length,
      problems: { live: a.problems.length, burst: b.problems.length, replay: c.problems.length },
    };
    process.stdout.write(`pipeline determinism: ${JSON.stringify(summary)}\n`);

    // The run means something: finished and unfinished trips, faults that fired.
    expect(burstFold.delivered.length).toBeGreaterThanOrEqual(10);
    expect(burstFold.telemetry.rejected.length).toBeGreaterThan(0);
    expect(burstFold.telemetry.duplicates).toBeGreaterThan(0);

    // Each run equals the fold (which names every field that differs), and so the others.
    expect(firstLines(a.problems)).toEqual([]);
    expect(firstLines(b.problems)).toEqual([]);
    expect(firstLines(c.problems)).toEqual([]);
    for (const other of [b, c]) {
      expect(other.states).toEqual(a.states);
      expect(other.examples).toEqual(a.examples);
    }

    // The burst ran changes hours ahead of telemetry: every delivered shipment still shows its
    // vehicle's last reading at or before the delivery, and every delivery with readings on
    // its trip has a checkpoint about every interval of it.
    for (const [id, expectation] of burstFold.expected) {
      const state = b.states.get(id);
      if (expectation.state.status !== 'DELIVERED' || !state) continue;
      const readings = burstFold.telemetry.clean.get(state.vehicleId ?? '') ?? [];
      const lastBefore = readings.filter((r) => r.reading.eventTime <= state.updatedAt).at(-1);
      expect({ id, positionTime: state.positionTime }).toEqual({
        id,
        positionTime: lastBefore?.reading.eventTime ?? null,
      });
    }
    const counts: string[] = [];
    for (const example of b.examples.values()) {
      const first = example.checkpoints[0];
      if (!first) throw new Error(`${example.shipmentId}: an example without checkpoints`);
      const trip = example.actualArrival - (first.checkpointTime - first.elapsedMin * MIN);
      // A checkpoint at pickup and one per 5 min after; a reading lost to a fault can stretch
      // a gap by a reading interval or two (10 s each).
      const most = Math.floor(trip / (5 * MIN)) + 2;
      const least = Math.floor(trip / (5 * MIN + 30_000));
      const n = example.checkpoints.length;
      if (n < least || n > most)
        counts.push(`${example.shipmentId}: ${n} checkpoints over ${trip / MIN} min`);
    }
    expect(counts).toEqual([]);
  }, 900_000);
});
