// The whole stream path on the real stack: the simulator writes shipments (PostgreSQL → CDC →
// shipments.cdc) and telemetry (SDK → telemetry.raw) while `continuum streams` and the Redis and
// PostgreSQL sinks run; afterwards every stage equals the offline fold of the same input events.
// On both Kafka clients of the runtime, with the stores in memory and on disk; with stores on
// disk each application runs on a worker thread of its own (CONTINUUM_STREAMS_THREADS).
import type { Kafka } from 'kafkajs';
import { loadConfig, type Config } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { STREAMS_CLIENT_KINDS } from '../../streams/runtime/clients/create-streams-client.ts';
import type { StreamsClientKind } from '../../streams/runtime/kafka-port.ts';
import { createKafka } from '../support/kafka.ts';
import {
  checkPipeline,
  firstLines,
  foldInputs,
  settledOutputs,
} from '../support/pipeline/pipeline-checks.ts';
import { PipelineHarness, type StreamsStores } from '../support/pipeline/pipeline-harness.ts';
import { FOLD_SIMULATION } from '../support/pipeline/simulations.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');

type Threads = Config['streams']['threads'];

// Threads follow the store kind, so each client runs both ways without a fifth case.
const CASES = STREAMS_CLIENT_KINDS.flatMap((client) =>
  (['memory', 'disk'] as const).map((stores): [StreamsClientKind, StreamsStores, Threads] => [
    client,
    stores,
    stores === 'disk' ? 'per-application' : 'one',
  ]),
);

/** Sum of a counter's samples with `application` ending in `suffix`, from a /metrics body. */
function counted(body: string, metric: string, suffix: string): number {
  let sum = 0;
  for (const line of body.split('\n')) {
    const match = new RegExp(`^${metric}\\{application="([^"]*)"[^}]*\\} (\\S+)$`).exec(line);
    if (match?.[1]?.endsWith(suffix)) sum += Number(match[2]);
  }
  return sum;
}

describe.each<[StreamsClientKind, StreamsStores, Threads]>(CASES)(
  'stream pipeline against the offline fold (%s client, stores in %s, threads: %s)',
  (client, stores, threads) => {
    let kafka: Kafka;
    let harness: PipelineHarness;

    beforeAll(async () => {
      kafka = createKafka(config, 'pipeline-fold');
      harness = await PipelineHarness.create(config, kafka, log);
      harness.streamsClient = client;
      harness.streamsThreads = threads;
    });

    afterAll(async () => {
      // Undefined when beforeAll failed before creating it.
      await (harness as PipelineHarness | undefined)?.cleanup();
    });

    it('leaves Redis and PostgreSQL equal to the fold of shipments.cdc and telemetry.raw, field by field', async () => {
      const streams = await harness.startStreams('exactly-once', stores);
      await harness.startSinks();
      const report = await harness.seed(FOLD_SIMULATION);
      await harness.waitUntilSettled(streams, settledOutputs(await foldInputs(harness)));
      // Caught up and running: the process says so on /ready (every task running, fetching).
      const ready = await fetch(`http://127.0.0.1:${streams.metricsPort}/ready`);
      const readiness = (await ready.json()) as { status: string; applications: unknown[] };
      expect({ status: ready.status, readiness }).toMatchObject({
        status: 200,
        readiness: { status: 'ready', applications: [{ ready: true }, { ready: true }] },
      });
      // /metrics counts both applications' work (on worker threads: their registries summed).
      const metrics = await (await fetch(`http://127.0.0.1:${streams.metricsPort}/metrics`)).text();
      const processed = {
        clean: counted(metrics, 'continuum_records_processed_total', '-telemetry-clean'),
        join: counted(metrics, 'continuum_records_processed_total', '-shipment-state'),
      };
      await streams.kill('SIGTERM');

      const findings = await checkPipeline(harness);
      const { fold } = findings;
      const summary = {
        ...findings.counts,
        shipments: fold.expected.size,
        delivered: fold.delivered.length,
        telemetryDlq: fold.telemetry.rejected.length,
        duplicatesDropped: fold.telemetry.duplicates,
        examples: fold.examples.size,
        skipped: Object.fromEntries(fold.skipped),
        committedShortOfEnd: harness.stuckBehindMarkers,
      };
      process.stdout.write(`pipeline fold (${client}, ${stores}): ${JSON.stringify(summary)}\n`);
      // The run is big enough to mean something: finished and unfinished trips, faults that fired.
      const statuses = [...fold.expected.values()].map((e) => e.last.change.after?.status);
      expect(fold.expected.size).toBe(report.statistics.shipmentsCreated);
      expect(statuses).toContain('DELIVERED');
      expect(statuses.some((s) => s !== 'DELIVERED' && s !== 'CANCELLED')).toBe(true);
      expect(fold.telemetry.duplicates).toBeGreaterThan(0);
      expect(fold.telemetry.rejected.length).toBeGreaterThan(0);
      expect(fold.delivered.length).toBeGreaterThan(0);
      // Every input record was processed at least once (more where a transaction was retried).
      expect(processed.clean).toBeGreaterThanOrEqual(findings.counts.telemetry);
      expect(processed.join).toBeGreaterThan(0);

      expect(firstLines(findings.cleanDiffs)).toEqual([]);
      expect(findings.duplicateCleanReadings).toBe(0);
      expect(firstLines(findings.dlqDiffs)).toEqual([]);
      expect(firstLines(findings.redisDiffs)).toEqual([]);
      expect(firstLines(findings.postgresDiffs)).toEqual([]);
      expect(firstLines(findings.stateDiffs)).toEqual([]);
      expect(firstLines(findings.sinkDiffs)).toEqual([]);
      expect(findings.duplicateStates).toBe(0);
      expect(findings.regressionExamples).toEqual([]);
      expect(findings.versionRegressions).toBe(0);
      // Every delivery with readings on its trip has its example, checkpoints and all.
      expect(fold.examples.size).toBeGreaterThan(0);
      for (const example of fold.examples.values())
        expect(example.checkpoints.length).toBeGreaterThan(0);
      expect(firstLines(findings.deliveryDiffs)).toEqual([]);
      expect(findings.duplicateDeliveries).toBe(0);
    }, 300_000);
  },
);
