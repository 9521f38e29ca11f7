// SIGKILL `continuum streams` again and again while it works through a simulated run, restart
// it, let it finish, and hold every stage against the offline fold. exactly-once: the state
// equals the fold and no output was applied twice. at-least-once: nothing is lost, and the test
// reports what the replays did (duplicates, regressions, fields that differ from the fold).
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { NO_FAULTS } from '../../seeder/faults.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../seeder/simulation.ts';
import type { ProcessingGuarantee } from '../../streams/runtime/streams-application.ts';
import { countRecords, createKafka } from '../support/kafka.ts';
import {
  checkPipeline,
  firstLines,
  foldInputs,
  settledOutputs,
  type PipelineFindings,
} from '../support/pipeline/pipeline-checks.ts';
import { PipelineHarness } from '../support/pipeline/pipeline-harness.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const KILLS = 3;

/** Enough telemetry that the kills land mid-stream; faults the fold models (see reference-fold.ts). */
const CRASH_SIMULATION: SimulationOptions = {
  ...SIMULATION_DEFAULTS,
  seed: 7_340_125,
  vehicles: 8,
  shipments: 16,
  customers: 16,
  durationMs: 3 * 3_600_000,
  telemetryIntervalMs: 10_000,
  faults: { ...NO_FAULTS, duplicate: 0.02, outOfOrder: 0.02, mph: 0.02, malformed: 0.002 },
};

const reports = new Map<ProcessingGuarantee, Record<string, unknown>>();

function summary(f: PipelineFindings): Record<string, unknown> {
  return {
    outputs: f.counts,
    duplicateCleanReadings: f.duplicateCleanReadings,
    lostCleanReadings: f.lostCleanReadings,
    duplicateStates: f.duplicateStates,
    conflictingDuplicateStates: f.conflictingDuplicateStates,
    conflictingExamples: f.conflictingExamples,
    versionRegressions: f.versionRegressions,
    replayedRegressions: f.replayedRegressions,
    regressionExamples: f.regressionExamples,
    stateDiffs: firstLines(f.stateDiffs, 3),
    duplicateRepartitionChanges: f.duplicateRepartitionChanges,
    lastChangeNotRepartitioned: f.lastChangeNotRepartitioned,
    duplicateDeliveries: f.duplicateDeliveries,
    cleanDiffs: f.cleanDiffs.length,
    dlqDiffs: firstLines(f.dlqDiffs, 3),
    redisDiffs: firstLines(f.redisDiffs, 5),
    postgresDiffs: f.postgresDiffs.length,
    sinkDiffs: firstLines(f.sinkDiffs, 3),
    deliveryDiffs: firstLines(f.deliveryDiffs, 3),
  };
}

describe.each<ProcessingGuarantee>(['exactly-once', 'at-least-once'])(
  'stream pipeline crash test (%s)',
  (guarantee) => {
    let kafka: Kafka;
    let harness: PipelineHarness;

    beforeAll(async () => {
      kafka = createKafka(config, 'pipeline-crash');
      harness = await PipelineHarness.create(config, kafka, log);
    });

    afterAll(async () => {
      // Undefined when beforeAll failed before creating it.
      await (harness as PipelineHarness | undefined)?.cleanup();
    });

    it(`SIGKILLed ${KILLS} times mid-stream, ${guarantee === 'exactly-once' ? 'ends equal to the fold with nothing applied twice' : 'loses nothing'}`, async () => {
      await harness.seed(CRASH_SIMULATION);
      await harness.startSinks();
      // Progress = clean readings written (an open transaction's count too) + clean readings the
      // join committed; each ends at least at the fold's count. Kills at fractions of that land
      // while the cleaner or the join is mid-stream, often between a write and its commit.
      const inputs = await foldInputs(harness);
      const cleanCount = settledOutputs(inputs).cleanReadings;
      const total = 2 * cleanCount;
      /** Where the run stands; `midStream` only when input is surely left (offsets count markers too). */
      const snapshot = async (): Promise<{
        progress: number;
        cleanerCommitted: string;
        joinCommitted: string;
        midStream: boolean;
      }> => {
        const cleaner = await harness.progress(
          harness.telemetryCleanAppId,
          harness.topics.telemetryRaw,
        );
        const join = await harness.progress(
          harness.shipmentStateAppId,
          harness.topics.telemetryClean,
        );
        const written = await countRecords(kafka, harness.topics.telemetryClean);
        return {
          progress: written + join.committed,
          cleanerCommitted: `${cleaner.committed}/${cleaner.end}`,
          joinCommitted: `${join.committed}/${join.end}`,
          midStream: cleaner.committed < cleaner.end || join.committed < cleanCount,
        };
      };

      const killedAt: Awaited<ReturnType<typeof snapshot>>[] = [];
      for (let kill = 1; kill <= KILLS; kill++) {
        const streams = await harness.startStreams(guarantee);
        const threshold = Math.floor((total * kill) / (KILLS + 3));
        const at = await waitFor(
          async () => {
            // 'stopped': it stopped by itself, which ends the wait at once.
            if (streams.exited || streams.failed) return 'stopped' as const;
            const s = await snapshot();
            return s.progress >= threshold ? s : false;
          },
          {
            timeoutMs: 120_000,
            intervalMs: 20,
            maxIntervalMs: 100,
            description: `progress ${threshold} of ${total} before kill ${kill}`,
          },
        ).catch((err: unknown) => {
          process.stderr.write(`last lines of continuum streams:\n${streams.tail()}\n`);
          throw err;
        });
        if (at === 'stopped')
          throw new Error(`continuum streams stopped by itself:\n${streams.tail()}`);
        await streams.kill('SIGKILL');
        killedAt.push(at);
      }
      const last = await harness.startStreams(guarantee);
      await harness.waitUntilSettled(last, settledOutputs(inputs), 180_000);
      await last.kill('SIGTERM');

      const findings = await checkPipeline(harness);
      reports.set(guarantee, { killedAt, ...summary(findings) });
      // The first kill must leave input unprocessed, or this proves nothing about crashes (how
      // many later ones did depends on speed; the report shows it).
      expect(killedAt[0]?.midStream).toBe(true);

      if (guarantee === 'exactly-once') {
        expect(firstLines(findings.cleanDiffs)).toEqual([]);
        expect(findings.duplicateCleanReadings).toBe(0);
        expect(firstLines(findings.dlqDiffs)).toEqual([]);
        expect(firstLines(findings.redisDiffs)).toEqual([]);
        expect(firstLines(findings.postgresDiffs)).toEqual([]);
        expect(firstLines(findings.stateDiffs)).toEqual([]);
        expect(firstLines(findings.sinkDiffs)).toEqual([]);
        expect(findings.duplicateStates).toBe(0);
        // Whichever task wrote them, a shipment's versions only rise in shipment.state.
        expect(findings.regressionExamples).toEqual([]);
        expect(firstLines(findings.deliveryDiffs)).toEqual([]);
        expect(findings.duplicateDeliveries).toBe(0);
      } else {
        // What at-least-once promises: every reading, shipment, dead letter and example arrives.
        expect(findings.lostCleanReadings).toBe(0);
        const missing = (lines: readonly string[]): string[] =>
          lines.filter((l) => l.endsWith(': missing') || l.includes('missing dead letter'));
        expect(missing(findings.redisDiffs)).toEqual([]);
        expect(missing(findings.postgresDiffs)).toEqual([]);
        expect(missing(findings.deliveryDiffs)).toEqual([]);
        expect(missing(findings.dlqDiffs)).toEqual([]);
        expect(findings.fold.expected.size).toBeGreaterThan(0);
        // Versions fall only where a replay wrote a change's state again (possibly joined with
        // a later reading than the first time), never to a change not written before.
        expect(findings.versionRegressions).toBe(findings.replayedRegressions);
      }
    }, 420_000);
  },
);

afterAll(() => {
  const lines = [...reports].map(([g, r]) => `${g}: ${JSON.stringify(r, null, 2)}`);
  process.stdout.write(
    `\npipeline crash test, what each guarantee did after ${KILLS} SIGKILLs:\n${lines.join('\n')}\n`,
  );
});
