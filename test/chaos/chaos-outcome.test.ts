import type { UnifiedShipmentState } from '../../schemas/types.ts';
import { VERSION_STRIDE } from '../../streams/join/unified-state.ts';
import type { PipelineFindings } from '../support/pipeline/pipeline-checks.ts';
import { chaosOutcome, chaosTable, storeLosses } from './chaos-outcome.ts';

const state = (shipmentId: string, change: number, reading = 0): UnifiedShipmentState =>
  ({ shipmentId, version: change * VERSION_STRIDE + reading }) as UnifiedShipmentState;

const expected = new Map([
  ['S1', { state: state('S1', 4, 2) }],
  ['S2', { state: state('S2', 6, 0) }],
]);

function findings(patch: Partial<PipelineFindings> = {}): PipelineFindings {
  return {
    fold: { expected } as unknown as PipelineFindings['fold'],
    counts: { changes: 10, telemetry: 90, clean: 80, states: 20, deliveries: 1 },
    cleanDiffs: [],
    duplicateCleanReadings: 0,
    duplicateCleanExamples: [],
    lostCleanReadings: 0,
    dlqDiffs: [],
    redisDiffs: [],
    postgresDiffs: [],
    stateDiffs: [],
    sinkDiffs: [],
    duplicateStates: 0,
    conflictingDuplicateStates: 0,
    conflictingExamples: [],
    versionRegressions: 0,
    regressionExamples: [],
    replayedRegressions: 0,
    duplicateRepartitionChanges: 0,
    lastChangeNotRepartitioned: [],
    deliveryDiffs: [],
    duplicateDeliveries: 0,
    ...patch,
  };
}

const complete = new Map([
  ['S1', state('S1', 4, 2)],
  ['S2', state('S2', 6, 0)],
]);

const base = {
  scenario: 'test',
  variant: 'sound' as const,
  faults: 2,
  recoverySeconds: 1.5,
};

describe('storeLosses', () => {
  it('names shipments missing or behind the last change, not another reading of it', () => {
    const stored = new Map([['S1', state('S1', 4, 7)]]);
    expect(storeLosses('redis', stored, expected)).toEqual(['redis S2: missing']);
    const behind = new Map([
      ['S1', state('S1', 3, 9)],
      ['S2', state('S2', 6, 0)],
    ]);
    expect(storeLosses('pg', behind, expected)).toEqual(['pg S1: change 3, expected 4']);
  });
});

describe('chaosOutcome', () => {
  it('passes a run that lost and repeated nothing', () => {
    const outcome = chaosOutcome({
      ...base,
      guarantee: 'exactly-once',
      findings: findings(),
      stores: { redis: complete },
    });
    expect(outcome).toMatchObject({
      events: 100,
      lost: 0,
      duplicated: 0,
      wrong: 0,
      verdict: 'pass',
      detail: [],
    });
  });

  it('counts lost readings, missing stores, examples and dead letters', () => {
    const outcome = chaosOutcome({
      ...base,
      guarantee: 'at-least-once',
      findings: findings({
        lostCleanReadings: 3,
        deliveryDiffs: ['deliveries.completed S2: missing', 'deliveries.completed S1: eta 1 vs 2'],
        dlqDiffs: ['t.dlq: missing dead letter of 0@4'],
      }),
      stores: { redis: new Map([['S1', state('S1', 4, 2)]]) },
    });
    expect(outcome.lost).toBe(3 + 1 + 1 + 1);
    expect(outcome.verdict).toBe('fail');
    expect(outcome.detail[0]).toBe('telemetry.clean: 3 readings lost');
  });

  it('fails exactly-once on anything applied twice or different; at-least-once allows replays', () => {
    const replayed = findings({
      duplicateStates: 2,
      duplicateCleanReadings: 1,
      duplicateCleanExamples: [
        'telemetry.clean V1 e1 twice: 0@1 by producer 7 epoch 0, 0@9 by producer 8 epoch 0',
      ],
      versionRegressions: 1,
      replayedRegressions: 1,
      redisDiffs: ['redis S1.lat: expected 1, got 2'],
    });
    const once = chaosOutcome({
      ...base,
      guarantee: 'exactly-once',
      findings: replayed,
      stores: { redis: complete },
    });
    expect(once).toMatchObject({ duplicated: 3, wrong: 1, verdict: 'fail' });
    // Which producers wrote the two copies: a replay by a new one, or a retry of the same.
    expect(once.detail).toContain(
      'telemetry.clean V1 e1 twice: 0@1 by producer 7 epoch 0, 0@9 by producer 8 epoch 0',
    );
    const least = chaosOutcome({
      ...base,
      guarantee: 'at-least-once',
      findings: replayed,
      stores: { redis: complete },
    });
    expect(least).toMatchObject({ duplicated: 3, wrong: 0, verdict: 'pass' });
    expect(least.detail).toEqual([]);
    const unexplained = chaosOutcome({
      ...base,
      guarantee: 'at-least-once',
      findings: findings({ versionRegressions: 2, replayedRegressions: 1 }),
      stores: { redis: complete },
    });
    expect(unexplained.verdict).toBe('fail');
    expect(unexplained.detail).toContain('1 version regressions no replay explains');
  });
});

describe('chaosTable', () => {
  it('shows each run, and whether a broken variant was caught', () => {
    const sound = chaosOutcome({
      ...base,
      guarantee: 'exactly-once',
      findings: findings(),
      stores: { redis: complete },
    });
    const caught = { ...sound, variant: 'broken' as const, verdict: 'fail' as const, lost: 4 };
    const missed = { ...sound, variant: 'broken' as const, recoverySeconds: null };
    const lines = chaosTable([sound, caught, missed]).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\| scenario .*\| verdict\s+\|$/);
    expect(lines[2]).toMatch(/\| 1\.5 .*\| pass\s+\|$/);
    expect(lines[3]).toMatch(/\| 4 .*\| fail \(caught\)\s+\|$/);
    expect(lines[4]).toMatch(/\| — .*\| PASS \(missed!\)\s+\|$/);
  });
});
