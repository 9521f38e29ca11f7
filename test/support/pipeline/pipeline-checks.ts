// Reads every stage of a finished pipeline run back and holds it against the offline fold of its
// inputs: telemetry.clean, the DLQs, shipment.state, deliveries.completed, Redis and PostgreSQL.
// Returns findings (readable diff lines and counts) rather than asserting, so the exactly-once
// tests can demand none and the at-least-once ones can report what replays did.
import { DLQ_HEADERS } from '../../../core/dead-letter.ts';
import { dlqTopic } from '../../../core/topics.ts';
import type {
  DeliveryExample,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../../schemas/types.ts';
import type { PipelineHarness, SettledOutputs } from './pipeline-harness.ts';
import {
  diffFields,
  diffShipmentState,
  foldPipeline,
  type ExpectedRejection,
  type PipelineFold,
} from './reference-fold.ts';
import { VERSION_STRIDE } from '../../../streams/join/unified-state.ts';

export interface PipelineFindings {
  fold: PipelineFold;
  counts: {
    changes: number;
    telemetry: number;
    clean: number;
    states: number;
    deliveries: number;
  };
  /** telemetry.clean against the fold, per vehicle (lost, reordered or changed readings). */
  cleanDiffs: string[];
  /** Clean readings written more than once (replays), and fold readings never written. */
  duplicateCleanReadings: number;
  /**
   * The first few duplicated clean readings: where each copy is and which producer wrote it
   * (id, epoch, transactional), to tell a replay by a new producer from a retry of the same one.
   */
  duplicateCleanExamples: string[];
  lostCleanReadings: number;
  /** Dead letters of the input topics against the fold's rejections. */
  dlqDiffs: string[];
  /** Redis, PostgreSQL and shipment.state's newest state per shipment against the fold, field by field. */
  redisDiffs: string[];
  postgresDiffs: string[];
  stateDiffs: string[];
  /** Each store against the newest version of shipment.state (the sinks' own job). */
  sinkDiffs: string[];
  /** (shipment, version) pairs on shipment.state more than once, and how many of those disagree. */
  duplicateStates: number;
  conflictingDuplicateStates: number;
  /** The first few conflicting duplicates: where they are and which fields differ. */
  conflictingExamples: string[];
  /**
   * States on shipment.state (read_committed, log order) whose version is not above an earlier
   * one of the same shipment: none under exactly-once, whichever task wrote them.
   */
  versionRegressions: number;
  /** The first few regressions, where they are. */
  regressionExamples: string[];
  /**
   * Regressions that a replay explains (at-least-once): the state is for a shipment change
   * (its changeSeq) already written before. After a crash the join replays changes from its
   * committed offsets against reading stores restored from changelogs that may be ahead of
   * them, so a replayed change can join a later reading than the first time (another version
   * of the same change). A regression to a change never written before is a real reordering.
   */
  replayedRegressions: number;
  /**
   * Changes the shipment cleaner forwarded more than once to the join (the repartition topic,
   * read_committed): where a replay came from when states are duplicated.
   */
  duplicateRepartitionChanges: number;
  /** Shipments whose last valid change never reached the join (lost before the repartition). */
  lastChangeNotRepartitioned: string[];
  /** DeliveryExamples against the delivered shipments. */
  deliveryDiffs: string[];
  duplicateDeliveries: number;
}

/**
 * Which producer wrote a consumed record: kafkajs keeps its record batch's header on each
 * message as `batchContext` (not in its types).
 */
function writerOf(message: object): string {
  const batch = (message as { batchContext?: Record<string, unknown> }).batchContext;
  if (!batch) return 'an unknown producer';
  return `producer ${String(batch.producerId)} epoch ${String(batch.producerEpoch)}${batch.inTransaction ? ' (transactional)' : ''}`;
}

function key(p: number, o: number): string {
  return `${p}@${o}`;
}

/** Dead letters of `topic` against `expected`: same records, with stage, reason and origin. */
async function checkDlq(
  harness: PipelineHarness,
  topic: string,
  expected: readonly ExpectedRejection[],
  originals: ReadonlyMap<string, Buffer | null>,
): Promise<string[]> {
  const letters = await harness.readRaw(dlqTopic(topic));
  const diffs: string[] = [];
  const want = new Map(expected.map((r) => [key(r.partition, r.offset), r]));
  const seen = new Set<string>();
  for (const letter of letters) {
    const h = (name: string): string | undefined => letter.headers?.[name]?.toString();
    const at = key(Number(h(DLQ_HEADERS.partition)), Number(h(DLQ_HEADERS.offset)));
    const rejection = want.get(at);
    if (h(DLQ_HEADERS.topic) !== topic)
      diffs.push(`${topic}.dlq ${at}: source topic ${h(DLQ_HEADERS.topic)}`);
    if (!rejection) {
      diffs.push(
        `${topic}.dlq: unexpected dead letter of ${at} (${h(DLQ_HEADERS.reason) ?? h(DLQ_HEADERS.errorMessage)})`,
      );
      continue;
    }
    if (seen.has(at)) diffs.push(`${topic}.dlq: ${at} dead-lettered twice`);
    seen.add(at);
    if (h(DLQ_HEADERS.stage) !== rejection.stage)
      diffs.push(`${topic}.dlq ${at}: stage ${h(DLQ_HEADERS.stage)}, expected ${rejection.stage}`);
    if (rejection.reason !== undefined && h(DLQ_HEADERS.reason) !== rejection.reason)
      diffs.push(
        `${topic}.dlq ${at}: reason ${h(DLQ_HEADERS.reason)}, expected ${rejection.reason}`,
      );
    const original = originals.get(at);
    if (
      original !== undefined &&
      !(letter.value ?? Buffer.alloc(0)).equals(original ?? Buffer.alloc(0))
    )
      diffs.push(`${topic}.dlq ${at}: value is not the original bytes`);
  }
  for (const at of want.keys())
    if (!seen.has(at)) diffs.push(`${topic}.dlq: missing dead letter of ${at}`);
  return diffs;
}

function compareStores(
  label: string,
  stored: ReadonlyMap<string, UnifiedShipmentState>,
  fold: PipelineFold,
): string[] {
  const diffs: string[] = [];
  for (const [id, expectation] of fold.expected) {
    const actual = stored.get(id);
    if (!actual) {
      diffs.push(`${label} ${id}: missing`);
      continue;
    }
    for (const d of diffShipmentState(expectation, actual)) diffs.push(`${label} ${d}`);
  }
  for (const id of stored.keys())
    if (!fold.expected.has(id)) diffs.push(`${label} ${id}: not in the fold`);
  return diffs;
}

/** The fold of the harness's input topics as they are now. */
export async function foldInputs(harness: PipelineHarness): Promise<PipelineFold> {
  const t = harness.topics;
  return foldPipeline(
    await harness.read<ShipmentChange>(t.shipmentsCdc),
    await harness.read<VehicleTelemetry>(t.telemetryRaw),
    { shipmentsCdc: t.shipmentsCdc, telemetryRaw: t.telemetryRaw },
  );
}

/** What a finished run of those inputs must have written (see PipelineHarness.waitUntilSettled). */
export function settledOutputs(fold: PipelineFold): SettledOutputs {
  return {
    cleanReadings: [...fold.telemetry.clean.values()].reduce((n, list) => n + list.length, 0),
    examples: fold.examples.size,
    exampleIds: new Set(fold.examples.keys()),
  };
}

export async function checkPipeline(harness: PipelineHarness): Promise<PipelineFindings> {
  const t = harness.topics;
  const changes = await harness.read<ShipmentChange>(t.shipmentsCdc);
  const telemetry = await harness.read<VehicleTelemetry>(t.telemetryRaw);
  const fold = foldPipeline(changes, telemetry, {
    shipmentsCdc: t.shipmentsCdc,
    telemetryRaw: t.telemetryRaw,
  });

  // telemetry.clean, per vehicle in log order.
  const clean = await harness.read<VehicleTelemetry>(t.telemetryClean);
  const cleanPositions = new Map<string, { partition: number; offset: number; writer: string }>();
  const duplicateCleanExamples: string[] = [];
  const cleanByVehicle = new Map<string, VehicleTelemetry[]>();
  let duplicateCleanReadings = 0;
  const cleanDiffs: string[] = [];
  for (const r of clean) {
    if (!r.value) {
      cleanDiffs.push(`telemetry.clean ${key(r.partition, r.offset)}: undecodable`);
      continue;
    }
    const first = cleanPositions.get(r.value.eventId);
    if (first) {
      duplicateCleanReadings += 1;
      if (duplicateCleanExamples.length < 5)
        duplicateCleanExamples.push(
          `telemetry.clean ${r.value.vehicleId} ${r.value.eventId} twice: ${key(first.partition, first.offset)} by ${first.writer}, ${key(r.partition, r.offset)} by ${writerOf(r.raw)}`,
        );
    } else
      cleanPositions.set(r.value.eventId, {
        partition: r.partition,
        offset: r.offset,
        writer: writerOf(r.raw),
      });
    const list = cleanByVehicle.get(r.value.vehicleId) ?? [];
    list.push(r.value);
    cleanByVehicle.set(r.value.vehicleId, list);
  }
  for (const [vehicleId, wanted] of fold.telemetry.clean) {
    const want = wanted.map((c) => c.reading);
    const got = cleanByVehicle.get(vehicleId) ?? [];
    if (JSON.stringify(got) === JSON.stringify(want)) continue;
    const i = want.findIndex((w, n) => JSON.stringify(w) !== JSON.stringify(got[n]));
    cleanDiffs.push(
      `telemetry.clean ${vehicleId}: ${got.length} readings, expected ${want.length}; first difference at #${i}: expected ${JSON.stringify(want[i] ?? null)}, got ${JSON.stringify(got[i] ?? null)}`,
    );
  }
  for (const vehicleId of cleanByVehicle.keys())
    if (!fold.telemetry.clean.has(vehicleId))
      cleanDiffs.push(`telemetry.clean ${vehicleId}: not in the fold`);

  const originals = (records: typeof changes | typeof telemetry): Map<string, Buffer | null> =>
    new Map(records.map((r) => [key(r.partition, r.offset), r.raw.value]));
  const dlqDiffs = [
    ...(await checkDlq(harness, t.telemetryRaw, fold.telemetry.rejected, originals(telemetry))),
    ...(await checkDlq(harness, t.shipmentsCdc, fold.shipments.rejected, originals(changes))),
    ...(await checkDlq(harness, t.telemetryClean, [], new Map())),
  ];

  // shipment.state: the newest version per shipment, and replays.
  const states = await harness.read<UnifiedShipmentState>(t.shipmentState);
  const newest = new Map<string, UnifiedShipmentState>();
  const byVersion = new Map<string, UnifiedShipmentState[]>();
  const at = new Map<UnifiedShipmentState, string>();
  for (const r of states) {
    if (!r.value) continue;
    const s = r.value;
    const held = newest.get(s.shipmentId);
    if (!held || s.version > held.version) newest.set(s.shipmentId, s);
    const k = `${s.shipmentId}#${s.version}`;
    byVersion.set(k, [...(byVersion.get(k) ?? []), s]);
    at.set(s, `${r.partition}@${r.offset}`);
  }
  const highest = new Map<string, number>();
  let versionRegressions = 0;
  let replayedRegressions = 0;
  const regressionExamples: string[] = [];
  const seenChanges = new Set<string>();
  for (const r of states) {
    if (!r.value) continue;
    const before = highest.get(r.value.shipmentId) ?? Number.NEGATIVE_INFINITY;
    const change = `${r.value.shipmentId}#${Math.floor(r.value.version / VERSION_STRIDE)}`;
    if (r.value.version <= before) {
      versionRegressions += 1;
      if (seenChanges.has(change)) replayedRegressions += 1;
      if (regressionExamples.length < 5)
        regressionExamples.push(
          `${r.value.shipmentId} v${r.value.version} (${r.value.status}) at ${r.partition}@${r.offset} after v${before}`,
        );
    }
    seenChanges.add(change);
    highest.set(r.value.shipmentId, Math.max(before, r.value.version));
  }
  const repeated = [...byVersion.values()].filter((l) => l.length > 1);
  const conflicting = repeated.filter((l) =>
    l.some((s) => JSON.stringify(s) !== JSON.stringify(l[0])),
  );
  const conflictingExamples = conflicting.slice(0, 5).map((list) => {
    const [first, ...rest] = list as [UnifiedShipmentState, ...UnifiedShipmentState[]];
    const fields = (Object.keys(first) as (keyof UnifiedShipmentState)[]).filter((f) =>
      rest.some((s) => JSON.stringify(s[f]) !== JSON.stringify(first[f])),
    );
    return `${first.shipmentId} v${first.version} at ${list.map((s) => at.get(s)).join(', ')}: ${fields
      .map((f) => `${f} ${list.map((s) => JSON.stringify(s[f])).join(' vs ')}`)
      .join('; ')}`;
  });

  const redis = await harness.redisStates();
  const postgres = await harness.postgresStates();
  const sinkDiffs: string[] = [];
  for (const [label, stored] of [
    ['redis', redis],
    ['postgres', postgres],
  ] as const) {
    for (const [id, want] of newest) {
      const got = stored.get(id);
      if (JSON.stringify(got) !== JSON.stringify(want))
        sinkDiffs.push(
          `${label} ${id}: holds version ${got?.version ?? 'none'}, shipment.state's newest is ${want.version}${got?.version === want.version ? ' (same version, different content)' : ''}`,
        );
    }
    for (const id of stored.keys())
      if (!newest.has(id)) sinkDiffs.push(`${label} ${id}: not on shipment.state`);
  }

  // The repartition topic (JSON, the application's own format): each change routed once to
  // the task that owns its shipment.
  const routed = new Map<string, number>();
  for (const m of await harness.readRaw(harness.repartitionTopic)) {
    const value = JSON.parse(m.value?.toString('utf8') ?? 'null') as {
      kind: string;
      change: ShipmentChange;
    } | null;
    const row = value?.change.after ?? value?.change.before;
    const k = `${m.key?.toString() ?? ''}/${value?.kind ?? ''}/${row?.shipmentId ?? ''}/${row?.changeSeq ?? ''}`;
    routed.set(k, (routed.get(k) ?? 0) + 1);
  }
  const duplicateRepartitionChanges = [...routed.values()].reduce((n, c) => n + c - 1, 0);
  const lastChangeNotRepartitioned = [...fold.expected.values()]
    .map((e) => e.last.change.after)
    .filter((row): row is NonNullable<typeof row> => row != null && row.vehicleId !== null)
    .filter((row) => !routed.has(`${row.vehicleId}/change/${row.shipmentId}/${row.changeSeq}`))
    .map((row) => `${row.shipmentId} (changeSeq ${row.changeSeq})`);

  // deliveries.completed: one example per delivered shipment, labelled by its DELIVERED row.
  const deliveries = await harness.read<DeliveryExample>(t.deliveriesCompleted);
  const examples = new Map<string, DeliveryExample[]>();
  for (const r of deliveries) {
    if (!r.value) continue;
    examples.set(r.value.shipmentId, [...(examples.get(r.value.shipmentId) ?? []), r.value]);
  }
  const deliveryDiffs: string[] = [];
  let duplicateDeliveries = 0;
  for (const [id, want] of fold.examples) {
    const list = examples.get(id) ?? [];
    if (list.length === 0) {
      deliveryDiffs.push(`deliveries.completed ${id}: missing`);
      continue;
    }
    duplicateDeliveries += list.length - 1;
    for (const got of list) {
      const { checkpoints: wantCheckpoints, ...wantFields } = want;
      const { checkpoints: gotCheckpoints, ...gotFields } = got;
      deliveryDiffs.push(
        ...diffFields(`deliveries.completed ${id}`, wantFields, gotFields),
        ...(JSON.stringify(gotCheckpoints) === JSON.stringify(wantCheckpoints)
          ? []
          : [
              `deliveries.completed ${id}.checkpoints: ${gotCheckpoints.length}, expected ${wantCheckpoints.length}; first difference: ${firstDifference(wantCheckpoints, gotCheckpoints)}`,
            ]),
      );
    }
  }
  for (const id of examples.keys())
    if (!fold.examples.has(id))
      deliveryDiffs.push(
        `deliveries.completed ${id}: not expected (${fold.skipped.get(id) ?? 'not delivered in the fold'})`,
      );

  return {
    fold,
    counts: {
      changes: changes.length,
      telemetry: telemetry.length,
      clean: clean.length,
      states: states.length,
      deliveries: deliveries.length,
    },
    cleanDiffs,
    duplicateCleanReadings,
    duplicateCleanExamples,
    lostCleanReadings: [...fold.telemetry.clean.values()]
      .flat()
      .filter((r) => !cleanPositions.has(r.reading.eventId)).length,
    dlqDiffs,
    redisDiffs: compareStores('redis', redis, fold),
    postgresDiffs: compareStores('postgres', postgres, fold),
    stateDiffs: compareStores('shipment.state', newest, fold),
    sinkDiffs,
    duplicateStates: repeated.length,
    conflictingDuplicateStates: conflicting.length,
    conflictingExamples,
    versionRegressions,
    regressionExamples,
    replayedRegressions,
    duplicateRepartitionChanges,
    lastChangeNotRepartitioned,
    deliveryDiffs,
    duplicateDeliveries,
  };
}

function firstDifference(want: readonly unknown[], got: readonly unknown[]): string {
  const i = want.findIndex((w, n) => JSON.stringify(w) !== JSON.stringify(got[n]));
  const at = i === -1 ? want.length : i;
  return `#${at}: expected ${JSON.stringify(want[at] ?? null)}, got ${JSON.stringify(got[at] ?? null)}`;
}

/** At most `n` lines of a diff, with how many more there were. */
export function firstLines(lines: readonly string[], n = 20): string[] {
  return lines.length <= n ? [...lines] : [...lines.slice(0, n), `… and ${lines.length - n} more`];
}
