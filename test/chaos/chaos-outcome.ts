// What a chaos scenario found, counted the same way for every scenario: events in, faults
// injected, records lost, records applied twice, results that differ from the offline fold, how
// long the pipeline took to settle after the last fault, and the verdict. Pure: the scenarios
// (chaos-scenarios.ts) read the stores and topics back, this module only counts.
import type { UnifiedShipmentState } from '../../schemas/types.ts';
import { VERSION_STRIDE } from '../../streams/join/unified-state.ts';
import type { ProcessingGuarantee } from '../../streams/runtime/streams-application.ts';
import type { PipelineFindings } from '../support/pipeline/pipeline-checks.ts';

export type ChaosVariant = 'sound' | 'broken';

export interface ChaosOutcome {
  scenario: string;
  /** `broken`: the platform deliberately wrong (the verdict must then be `fail`). */
  variant: ChaosVariant;
  guarantee: ProcessingGuarantee;
  /** Input records: shipment changes plus raw telemetry. */
  events: number;
  /** Faults injected (kills, stops, locks, wipes). */
  faults: number;
  /** Records or updates that never arrived where they belong (see `lossesOf`). */
  lost: number;
  /** Records applied more than once (clean readings, states, examples, dead letters). */
  duplicated: number;
  /** Under exactly-once: fields that differ from the fold although nothing was lost. */
  wrong: number;
  /** From the end of the last fault until every stage had committed its inputs. */
  recoverySeconds: number | null;
  verdict: 'pass' | 'fail';
  /** The first lines of what was lost, duplicated or wrong, and what the scenario observed. */
  detail: string[];
}

/** A store's shipments that are missing or hold an older change than the fold's last one. */
export function storeLosses(
  label: string,
  stored: ReadonlyMap<string, UnifiedShipmentState>,
  expected: ReadonlyMap<string, { state: UnifiedShipmentState }>,
): string[] {
  const losses: string[] = [];
  for (const [id, { state }] of expected) {
    const actual = stored.get(id);
    if (!actual) {
      losses.push(`${label} ${id}: missing`);
      continue;
    }
    // The change a state is for; at-least-once may join the same change with another reading.
    const have = Math.floor(actual.version / VERSION_STRIDE);
    const want = Math.floor(state.version / VERSION_STRIDE);
    if (have < want) losses.push(`${label} ${id}: change ${have}, expected ${want}`);
  }
  return losses;
}

const isMissing = (line: string): boolean =>
  line.endsWith(': missing') || line.includes('missing dead letter');

/** Everything the run lost, one line each (clean readings are counted, not listed). */
export function lossesOf(
  findings: PipelineFindings,
  stores: Readonly<Record<string, ReadonlyMap<string, UnifiedShipmentState>>>,
): { count: number; lines: string[] } {
  const lines = [
    ...Object.entries(stores).flatMap(([label, stored]) =>
      storeLosses(label, stored, findings.fold.expected),
    ),
    ...findings.deliveryDiffs.filter(isMissing),
    ...findings.dlqDiffs.filter(isMissing),
    ...findings.lastChangeNotRepartitioned.map((id) => `${id}: last change never reached the join`),
  ];
  const clean = findings.lostCleanReadings;
  return {
    count: clean + lines.length,
    lines: clean > 0 ? [`telemetry.clean: ${clean} readings lost`, ...lines] : lines,
  };
}

export function duplicatesOf(findings: PipelineFindings): number {
  const twice = findings.dlqDiffs.filter((l) => l.includes('dead-lettered twice')).length;
  return (
    findings.duplicateCleanReadings +
    findings.duplicateStates +
    findings.duplicateDeliveries +
    twice
  );
}

/** Differences from the fold that are neither a loss nor a duplicate (exactly-once: none). */
export function wrongOf(findings: PipelineFindings): string[] {
  return [
    ...findings.cleanDiffs,
    ...findings.stateDiffs,
    ...findings.redisDiffs,
    ...findings.postgresDiffs,
    ...findings.sinkDiffs,
    ...findings.deliveryDiffs,
    ...findings.dlqDiffs,
  ].filter((line) => !isMissing(line) && !line.includes('dead-lettered twice'));
}

export interface OutcomeInput {
  scenario: string;
  variant: ChaosVariant;
  guarantee: ProcessingGuarantee;
  faults: number;
  recoverySeconds: number | null;
  findings: PipelineFindings;
  /** The stores to hold against the fold, by label (e.g. redis, postgres). */
  stores: Readonly<Record<string, ReadonlyMap<string, UnifiedShipmentState>>>;
  /** What the scenario saw beside the counts (e.g. lag while blocked). */
  observed?: string[];
}

/**
 * The verdict: nothing lost under either guarantee; under exactly-once also nothing applied
 * twice and nothing different from the fold; under at-least-once a version falls only where a
 * replay wrote a change's state again.
 */
export function chaosOutcome(input: OutcomeInput): ChaosOutcome {
  const { findings } = input;
  const losses = lossesOf(findings, input.stores);
  const duplicated = duplicatesOf(findings);
  const exactlyOnce = input.guarantee === 'exactly-once';
  const wrong = exactlyOnce ? wrongOf(findings) : [];
  const regressionsUnexplained = findings.versionRegressions - findings.replayedRegressions;
  const pass =
    losses.count === 0 &&
    (exactlyOnce
      ? duplicated === 0 && wrong.length === 0 && findings.versionRegressions === 0
      : regressionsUnexplained === 0);
  const detail = [
    ...(input.observed ?? []),
    ...losses.lines.slice(0, 5),
    ...wrong.slice(0, 3),
    ...findings.duplicateCleanExamples.slice(0, exactlyOnce ? 3 : 0),
    ...findings.regressionExamples.slice(0, exactlyOnce ? 3 : 0),
  ].map(shorten);
  if (!exactlyOnce && regressionsUnexplained !== 0)
    detail.push(`${regressionsUnexplained} version regressions no replay explains`);
  return {
    scenario: input.scenario,
    variant: input.variant,
    guarantee: input.guarantee,
    events: findings.counts.changes + findings.counts.telemetry,
    faults: input.faults,
    lost: losses.count,
    duplicated,
    wrong: wrong.length,
    recoverySeconds: input.recoverySeconds,
    verdict: pass ? 'pass' : 'fail',
    detail,
  };
}

/** One line of detail, cut where a diff's JSON would make the table's notes unreadable. */
function shorten(line: string): string {
  return line.length <= DETAIL_CHARS ? line : `${line.slice(0, DETAIL_CHARS - 1)}…`;
}

const DETAIL_CHARS = 240;

const COLUMNS = [
  'scenario',
  'variant',
  'guarantee',
  'events',
  'faults',
  'lost',
  'duplicated',
  'wrong',
  'recovery s',
  'verdict',
] as const;

/** The outcomes as a Markdown table (what `npm run chaos` prints). */
export function chaosTable(outcomes: readonly ChaosOutcome[]): string {
  const rows = outcomes.map((o) => [
    o.scenario,
    o.variant,
    o.guarantee,
    String(o.events),
    String(o.faults),
    String(o.lost),
    String(o.duplicated),
    String(o.wrong),
    o.recoverySeconds === null ? '—' : o.recoverySeconds.toFixed(1),
    // A broken variant is meant to fail: its row says whether the scenario caught it.
    o.variant === 'broken'
      ? o.verdict === 'fail'
        ? 'fail (caught)'
        : 'PASS (missed!)'
      : o.verdict,
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
