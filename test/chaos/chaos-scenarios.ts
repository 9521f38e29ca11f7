// The chaos scenarios: the whole pipeline (simulator → PostgreSQL → CDC, telemetry SDK →
// `continuum streams` → Redis and PostgreSQL sinks) on the real stack, a fault injected while it
// works, then every stage held against the offline fold of its inputs (pipeline-checks.ts) and
// counted by chaos-outcome.ts. Each scenario also has a `broken` variant — the platform made
// deliberately wrong in the way the scenario guards against — whose verdict must be `fail`:
// the proof that the scenario can see what it claims to.
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { ShipmentStatePostgresSink } from '../../connectors/sinks/postgres/shipment-state-postgres-sink.ts';
import { ShipmentStateRedisSink } from '../../connectors/sinks/redis/shipment-state-redis-sink.ts';
import type { Sink, SinkRecord } from '../../connectors/sinks/sink.ts';
import { SINK_RUNNER_DEFAULTS, SinkRunner } from '../../connectors/sinks/sink-runner.ts';
import { rebuildView } from '../../replay/rebuild-view.ts';
import type { UnifiedShipmentState } from '../../schemas/types.ts';
import { NO_FAULTS } from '../../seeder/faults.ts';
import { SIMULATION_DEFAULTS, type SimulationOptions } from '../../seeder/simulation.ts';
import type { ProcessingGuarantee } from '../../streams/runtime/streams-application.ts';
import type { StreamsClientKind } from '../../streams/runtime/kafka-port.ts';
import { countRecords } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import {
  checkPipeline,
  foldInputs,
  settledOutputs,
  type PipelineFindings,
} from '../support/pipeline/pipeline-checks.ts';
import { PipelineHarness, type StreamsProcess } from '../support/pipeline/pipeline-harness.ts';
import type { PrivatePostgres } from '../support/private-postgres.ts';
import type { PrivateKafka } from '../support/private-kafka.ts';
import type { PipelineFold } from '../support/pipeline/reference-fold.ts';
import { chaosOutcome, type ChaosOutcome, type ChaosVariant } from './chaos-outcome.ts';

/** `short`: what CI runs (minutes for all); `long`: what `npm run chaos` runs. */
export type ChaosSize = 'short' | 'long';

export interface ChaosContext {
  config: Config;
  kafka: Kafka;
  log: Logger;
  size: ChaosSize;
  /** The cluster the broker scenarios kill nodes of (`config` and `kafka` point at it). */
  cluster?: PrivateKafka;
  /** The PostgreSQL the restart scenario restarts (`config` points at it). */
  postgres?: PrivatePostgres;
}

/** One run of a scenario: its outcome(s) and what it observed, for the test to assert on. */
export interface ChaosRun {
  outcomes: ChaosOutcome[];
  /** Facts the scenario needs to be meaningful (e.g. the first kill landed mid-stream). */
  facts: Record<string, number | boolean | string>;
  findings: PipelineFindings;
}

export interface ChaosRunOptions {
  guarantee: ProcessingGuarantee;
  variant: ChaosVariant;
  /**
   * The Kafka client `continuum streams` runs on (default: the configured one, kafkajs).
   * Scenarios that honour it name their outcome `<scenario> [<client>]`.
   */
  client?: StreamsClientKind;
}

export interface ChaosScenario {
  name: string;
  /** What the fault is and what must hold, in one line (printed above the table). */
  summary: string;
  run(ctx: ChaosContext, options: ChaosRunOptions): Promise<ChaosRun>;
}

/** Faults of the input the fold models (see reference-fold.ts): duplicates, reordering, poison. */
const INPUT_FAULTS = {
  ...NO_FAULTS,
  duplicate: 0.02,
  outOfOrder: 0.02,
  mph: 0.02,
  malformed: 0.002,
};

/**
 * A bounded simulated run. `scale` 2 is the crash scenarios' (enough telemetry that kills land
 * mid-stream: short, 8 vehicles for 3 simulated hours at one reading per 10 s); 1 is half that.
 */
function simulation(size: ChaosSize, seed: number, scale: 1 | 2): SimulationOptions {
  const fleet = (size === 'long' ? 5 : 1) * scale;
  return {
    ...SIMULATION_DEFAULTS,
    seed,
    vehicles: 4 * fleet,
    shipments: 8 * fleet,
    customers: 8 * fleet,
    durationMs: (size === 'long' ? 6 : 1.5 * scale) * 3_600_000,
    telemetryIntervalMs: 10_000,
    faults: INPUT_FAULTS,
  };
}

/** Runs `body` on a fresh harness (test-only topics, groups, schema, keys) and removes it all. */
async function withHarness<T>(
  ctx: ChaosContext,
  body: (harness: PipelineHarness) => Promise<T>,
  client?: StreamsClientKind,
): Promise<T> {
  const harness = await PipelineHarness.create(ctx.config, ctx.kafka, ctx.log);
  harness.streamsClient = client;
  try {
    return await body(harness);
  } finally {
    await harness.cleanup();
  }
}

interface Progress {
  /** Clean readings written (an open transaction's too) plus clean readings the join committed. */
  progress: number;
  /** Input is surely left: the cleaner or the join has not committed all of it. */
  midStream: boolean;
}

/** Where the run stands; ends at least at twice the fold's clean readings. */
async function pipelineProgress(harness: PipelineHarness, cleanCount: number): Promise<Progress> {
  const cleaner = await harness.progress(harness.telemetryCleanAppId, harness.topics.telemetryRaw);
  const join = await harness.progress(harness.shipmentStateAppId, harness.topics.telemetryClean);
  const written = await countRecords(harness.kafka, harness.topics.telemetryClean);
  return {
    progress: written + join.committed,
    midStream: cleaner.committed < cleaner.end || join.committed < cleanCount,
  };
}

/** Waits until the pipeline reached `threshold`, or throws with the process's log if it stopped. */
async function untilProgress(
  harness: PipelineHarness,
  streams: StreamsProcess,
  cleanCount: number,
  threshold: number,
  description: string,
): Promise<Progress> {
  const at = await waitFor(
    async () => {
      if (streams.exited || streams.failed) return 'stopped' as const;
      const p = await pipelineProgress(harness, cleanCount);
      return p.progress >= threshold ? p : false;
    },
    { timeoutMs: 120_000, intervalMs: 20, maxIntervalMs: 200, description },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\nlast lines of continuum streams:\n${streams.tail()}`);
  });
  if (at === 'stopped') throw new Error(`continuum streams stopped by itself:\n${streams.tail()}`);
  return at;
}

const cleanReadingsOf = (fold: PipelineFold): number => settledOutputs(fold).cleanReadings;

/** Seconds since `from`, to a tenth. */
const secondsSince = (from: number): number => Math.round((Date.now() - from) / 100) / 10;

async function viewStores(
  harness: PipelineHarness,
): Promise<Record<string, Map<string, UnifiedShipmentState>>> {
  return { redis: await harness.redisStates(), postgres: await harness.postgresStates() };
}

/**
 * The broken runtime of the streams scenarios: it commits input it never processed. While every
 * instance is down, the cleaner's committed offsets move `skip` records ahead on each partition
 * that has that many left, as a runtime that committed before producing would leave them.
 */
async function commitUnprocessedInput(harness: PipelineHarness, skip: number): Promise<number> {
  const admin = harness.kafka.admin();
  await admin.connect();
  try {
    const groupId = harness.telemetryCleanAppId;
    const topic = harness.topics.telemetryRaw;
    // A killed member stays in the group until its session times out; offsets of a group with
    // members cannot be set (waitFor retries what throws).
    return await waitFor(
      async () => {
        const { ends } = await harness.progress(groupId, topic);
        const partitions = [...ends]
          .filter(([, e]) => e.high - e.committed > skip)
          .map(([partition, e]) => ({ partition, offset: String(e.committed + skip) }));
        if (partitions.length > 0) await admin.setOffsets({ groupId, topic, partitions });
        return partitions.length * skip;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: `${groupId} to have no members` },
    );
  } finally {
    await admin.disconnect();
  }
}

/** SIGKILL `continuum streams` again and again mid-stream; restart it; let it finish. */
export const streamsSigkill: ChaosScenario = {
  name: 'streams-sigkill',
  summary:
    'continuum streams SIGKILLed mid-stream again and again, restarted each time: nothing lost; exactly-once also nothing applied twice',
  async run(ctx, { guarantee, variant }) {
    const kills = ctx.size === 'long' ? 6 : 3;
    return withHarness(ctx, async (harness) => {
      await harness.seed(simulation(ctx.size, 7_340_125, 2));
      await harness.startSinks();
      const inputs = await foldInputs(harness);
      const cleanCount = cleanReadingsOf(inputs);
      const total = 2 * cleanCount;
      const killedAt: Progress[] = [];
      // Broken: input committed unprocessed, before the start (as in the other scenarios). After
      // the first kill, as this scenario did before, a runtime fast enough to have read its whole
      // input by then left nothing to skip.
      const skipped = variant === 'broken' ? await commitUnprocessedInput(harness, 5) : 0;
      for (let kill = 1; kill <= kills; kill++) {
        const streams = await harness.startStreams(guarantee);
        // Kills at fractions of the progress land while the cleaner or the join is mid-stream,
        // often between a write and its commit.
        const threshold = Math.floor((total * kill) / (kills + 3));
        killedAt.push(
          await untilProgress(harness, streams, cleanCount, threshold, `progress ${threshold}`),
        );
        await streams.kill('SIGKILL');
      }
      const last = await harness.startStreams(guarantee);
      const restarted = Date.now();
      // The broken runtime never writes the readings it skipped: wait for the rest.
      const expected = settledOutputs(inputs);
      await harness.waitUntilSettled(
        last,
        { ...expected, cleanReadings: expected.cleanReadings - skipped },
        240_000,
      );
      const recoverySeconds = secondsSince(restarted);
      await last.kill('SIGTERM');
      const findings = await checkPipeline(harness);
      const outcome = chaosOutcome({
        scenario: this.name,
        variant,
        guarantee,
        faults: kills,
        recoverySeconds,
        findings,
        stores: await viewStores(harness),
        observed: variant === 'broken' ? [`committed ${skipped} raw readings unprocessed`] : [],
      });
      return {
        outcomes: [outcome],
        facts: {
          firstKillMidStream: killedAt[0]?.midStream ?? false,
          midStreamKills: killedAt.filter((k) => k.midStream).length,
          skipped,
        },
        findings,
      };
    });
  },
};

/**
 * SIGSTOP one instance past its session timeout while a second takes its tasks over, then
 * SIGCONT it: whatever it still had open must be fenced (exactly-once: nothing applied twice).
 */
export const streamsSigstop: ChaosScenario = {
  name: 'streams-sigstop',
  summary:
    'one continuum streams instance SIGSTOPped past its session timeout while a second takes over, then resumed: its late writes fenced, nothing lost or applied twice',
  async run(ctx, { guarantee, variant, client }) {
    const scenario = client === undefined ? this.name : `${this.name} [${client}]`;
    return withHarness(
      ctx,
      async (harness) => {
        await harness.seed(simulation(ctx.size, 9_110_417, 2));
        await harness.startSinks();
        const inputs = await foldInputs(harness);
        const cleanCount = cleanReadingsOf(inputs);
        const total = 2 * cleanCount;
        // Broken: input committed unprocessed before the first start (the cleaner reads its whole
        // input within a second, so waiting until the stop would leave nothing to skip).
        const skipped = variant === 'broken' ? await commitUnprocessedInput(harness, 5) : 0;
        const first = await harness.startStreams(guarantee);
        const stoppedAt = await untilProgress(
          harness,
          first,
          cleanCount,
          Math.floor(total / 4),
          'a quarter of the run before the stop',
        );
        first.child.kill('SIGSTOP');
        const stopped = Date.now();
        try {
          const second = await harness.startStreams(guarantee);
          const expected = settledOutputs(inputs);
          // The second instance gets partitions only once the group has dropped the stopped one
          // (its session timed out): one assignment per application. Progress alone cannot say
          // so: the first may have written past half the run before the stop landed.
          const takeover = await waitFor(
            () =>
              second.exited || second.failed
                ? ('stopped' as const)
                : second.applicationsThatLogged('partitions assigned') >= 2,
            {
              timeoutMs: 120_000,
              intervalMs: 100,
              description: 'the second instance to take over',
            },
          );
          if (takeover === 'stopped')
            throw new Error(`the second instance stopped:\n${second.tail()}`);
          await untilProgress(
            harness,
            second,
            cleanCount,
            Math.floor(total / 2),
            'the second instance to take over half the run',
          );
          const tookOverSeconds = secondsSince(stopped);
          first.child.kill('SIGCONT');
          const resumed = Date.now();
          await harness.waitUntilSettled(
            second,
            { ...expected, cleanReadings: expected.cleanReadings - skipped },
            240_000,
          );
          const recoverySeconds = secondsSince(resumed);
          // Its first heartbeat after SIGCONT tells it; the whole log counts, not its tail.
          const resumedLostMembership = await waitFor(
            () => first.hasLogged('group membership lost'),
            { timeoutMs: 30_000, description: 'the resumed instance to see its membership lost' },
          ).catch(() => false);
          await first.kill('SIGTERM');
          await second.kill('SIGTERM');
          const findings = await checkPipeline(harness);
          const outcome = chaosOutcome({
            scenario,
            variant,
            guarantee,
            faults: 1,
            recoverySeconds,
            findings,
            stores: await viewStores(harness),
            observed: [
              `second instance took over ${tookOverSeconds}s after the stop`,
              ...(variant === 'broken' ? [`committed ${skipped} raw readings unprocessed`] : []),
            ],
          });
          return {
            outcomes: [outcome],
            facts: {
              stoppedMidStream: stoppedAt.midStream,
              tookOverSeconds,
              skipped,
              // The resumed instance saw it had been dropped from the group and kept no task.
              resumedLostMembership,
            },
            findings,
          };
        } finally {
          // A stopped process cannot be killed gracefully; SIGKILL works on it as on any other.
          if (!first.exited) first.child.kill('SIGCONT');
        }
      },
      client,
    );
  },
};

/**
 * A sink whose flush acknowledges what it could not write: the failed batch is dropped and the
 * runner commits past it (the classic "commit before flush" bug, in sink form).
 */
class AcknowledgeWithoutWritingSink implements Sink<UnifiedShipmentState> {
  readonly name = 'postgres-acknowledging';
  private readonly create: () => ShipmentStatePostgresSink;
  private inner: ShipmentStatePostgresSink;
  dropped = 0;

  constructor(create: () => ShipmentStatePostgresSink) {
    this.create = create;
    this.inner = create();
  }

  add(record: SinkRecord<UnifiedShipmentState>): void {
    this.inner.add(record);
  }

  async flush(): Promise<{ written: number }> {
    try {
      return await this.inner.flush();
    } catch {
      // Forget the batch the inner sink keeps for a retry, and report success.
      this.inner = this.create();
      this.dropped += 1;
      return { written: 0 };
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface AcknowledgingSink {
  sink: AcknowledgeWithoutWritingSink;
  schema: string;
  /** The scenario's two outcomes: the sound view, and this sink's table as the broken one. */
  outcomes(
    run: { scenario: string; guarantee: ProcessingGuarantee; findings: PipelineFindings },
    sound: { recoverySeconds: number; observed: string[] },
  ): Promise<[ChaosOutcome, ChaosOutcome]>;
  /** Waits until it has read as far as the sound PostgreSQL sink. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The broken sink of the PostgreSQL scenarios: a second shipment-state sink, on its own schema,
 * that acknowledges the batches it failed to write ("commit before flush").
 */
async function startAcknowledgingSink(
  ctx: ChaosContext,
  harness: PipelineHarness,
  options: { sessionTimeoutMs?: number; poolOptions?: string } = {},
): Promise<AcknowledgingSink> {
  const schema = `${harness.pgSchema}_ack`;
  const pool = new pg.Pool({
    connectionString: ctx.config.postgres.url,
    max: 2,
    ...(options.poolOptions ? { options: options.poolOptions } : {}),
  });
  // A restarted server drops the idle connections too; the sink's next query reconnects.
  pool.on('error', () => undefined);
  const newSink = (): ShipmentStatePostgresSink => new ShipmentStatePostgresSink(pool, { schema });
  await newSink().ensureTable();
  const sink = new AcknowledgeWithoutWritingSink(newSink);
  const groupId = uniqueName('test-chaos-sink-ack');
  const runner = new SinkRunner<UnifiedShipmentState>({
    kafka: ctx.kafka,
    topic: harness.topics.shipmentState,
    groupId,
    sink,
    decode: async (bytes) => (await harness.registry.decode(bytes)) as UnifiedShipmentState,
    log: ctx.log,
    metricsRegistry: new Registry(),
    ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
  });
  await runner.start();
  return {
    sink,
    schema,
    outcomes: async (run, sound) => [
      chaosOutcome({
        ...run,
        variant: 'sound',
        faults: 1,
        recoverySeconds: sound.recoverySeconds,
        stores: await viewStores(harness),
        observed: sound.observed,
      }),
      chaosOutcome({
        ...run,
        variant: 'broken',
        faults: 1,
        recoverySeconds: null,
        stores: { 'postgres-acknowledging': await harness.postgresStates(schema) },
        observed: [`${sink.dropped} failed flushes acknowledged`],
      }),
    ],
    caughtUp: () =>
      waitFor(
        async () =>
          (await harness.progress(groupId, harness.topics.shipmentState)).committed >=
          (await harness.progress(harness.sinkGroupIds.postgres, harness.topics.shipmentState))
            .committed,
        { timeoutMs: 60_000, intervalMs: 500, description: 'the acknowledging sink to catch up' },
      ).then(() => undefined),
    async stop() {
      await runner.stop().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await harness.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      const admin = ctx.kafka.admin();
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/**
 * Locks the PostgreSQL sink's table while the pipeline writes states, longer than the sink's
 * session timeout: its flush blocks, lag grows, memory stays bounded, and once the lock goes
 * the sink carries on from where it was with nothing dropped. The broken variant is a second
 * PostgreSQL sink (its own table, also locked) that gives up on a blocked write after 200 ms
 * and acknowledges it anyway.
 */
export const sinkBlocked: ChaosScenario = {
  name: 'sink-blocked',
  summary:
    'the PostgreSQL sink blocked by a table lock for longer than its session timeout: lag grows, memory stays bounded, nothing dropped once it is released',
  async run(ctx, { guarantee }) {
    const sessionTimeoutMs = 10_000;
    const holdMs = ctx.size === 'long' ? 60_000 : 1.5 * sessionTimeoutMs;
    return withHarness(ctx, async (harness) => {
      await harness.seed(simulation(ctx.size, 5_202_611, 1));
      const sinkMetrics = new Registry();
      await harness.startSinks(sinkMetrics, { sessionTimeoutMs });
      const inputs = await foldInputs(harness);

      // The broken sink: its own schema, and a connection that gives up on a lock at once.
      const ack = await startAcknowledgingSink(ctx, harness, {
        sessionTimeoutMs,
        poolOptions: '-c lock_timeout=200',
      });

      const locker = await harness.pool.connect();
      let streams: StreamsProcess | undefined;
      const rss = { before: process.memoryUsage().rss, peak: 0 };
      // What the blocked sink holds in memory: its records added and not yet flushed.
      let heldPeak = 0;
      const sampler = setInterval(() => {
        rss.peak = Math.max(rss.peak, process.memoryUsage().rss);
        void sinkMetrics
          .getSingleMetric('continuum_sink_held_records')
          ?.get()
          .then((m) => {
            const held = m.values.find((v) => v.labels.sink === 'postgres')?.value ?? 0;
            heldPeak = Math.max(heldPeak, held);
          });
      }, 250);
      try {
        await locker.query('BEGIN');
        await locker.query(
          `LOCK TABLE ${harness.pgSchema}.shipment_state, ${ack.schema}.shipment_state IN ACCESS EXCLUSIVE MODE`,
        );
        const locked = Date.now();
        streams = await harness.startStreams(guarantee);
        const running = streams;
        // Held for the fault's length, and until the sink is behind the states written.
        const lagWhileBlocked = await waitFor(
          async () => {
            if (running.exited || running.failed)
              throw new Error(`continuum streams stopped:\n${running.tail()}`);
            if (Date.now() - locked < holdMs) return false;
            const p = await harness.progress(
              harness.sinkGroupIds.postgres,
              harness.topics.shipmentState,
            );
            const lag = p.end - p.committed;
            return lag > 0 ? lag : false;
          },
          { timeoutMs: holdMs + 120_000, intervalMs: 500, description: 'the blocked sink to lag' },
        );
        await locker.query('COMMIT');
        const released = Date.now();
        const heldSeconds = Math.round((released - locked) / 100) / 10;
        await harness.waitUntilSettled(streams, settledOutputs(inputs), 240_000);
        const recoverySeconds = secondsSince(released);
        // The broken sink commits as it goes; wait until it has read everything too.
        await ack.caughtUp();
        await streams.kill('SIGTERM');
        const findings = await checkPipeline(harness);
        const rssGrowthMiB = Math.round((rss.peak - rss.before) / 2 ** 20);
        const observed = [
          `sink lag ${lagWhileBlocked} states when released after ${heldSeconds}s`,
          `peak RSS +${rssGrowthMiB} MiB while blocked`,
          `the blocked sink held at most ${heldPeak} records (flush bound ${SINK_RUNNER_DEFAULTS.flushRecords})`,
        ];
        const [sound, broken] = await ack.outcomes(
          { scenario: this.name, guarantee, findings },
          { recoverySeconds, observed },
        );
        return {
          outcomes: [sound, broken],
          facts: {
            lagWhileBlocked,
            heldSeconds,
            rssGrowthMiB,
            heldPeak,
            flushRecords: SINK_RUNNER_DEFAULTS.flushRecords,
            droppedFlushes: ack.sink.dropped,
          },
          findings,
        };
      } finally {
        clearInterval(sampler);
        await locker.query('ROLLBACK').catch(() => undefined);
        locker.release();
        await ack.stop();
      }
    });
  },
};

/**
 * Loses the view mid-run — Redis's keys deleted, PostgreSQL's table emptied — and rebuilds it
 * from shipment.state with `continuum replay rebuild-view`'s library. The broken variant is the
 * view checked before the rebuild (what a platform without one would serve).
 */
export const viewLost: ChaosScenario = {
  name: 'view-lost',
  summary:
    'Redis flushed and PostgreSQL emptied under load, the pipeline finishing, then the view rebuilt from shipment.state: equal to the fold',
  async run(ctx, { guarantee }) {
    return withHarness(ctx, async (harness) => {
      await harness.seed(simulation(ctx.size, 3_318_027, 1));
      await harness.startSinks();
      const inputs = await foldInputs(harness);
      const cleanCount = cleanReadingsOf(inputs);
      const streams = await harness.startStreams(guarantee);
      const wipedAt = await untilProgress(harness, streams, cleanCount, cleanCount, 'half the run');
      // A view worth losing: every shipment in Redis (the sinks may trail the join on a busy
      // machine), so the shipments finished by then have no later state to restore them.
      const shipments = inputs.expected.size;
      await waitFor(
        async () =>
          (await harness.redis.keys(`${harness.redisKeys.hashPrefix}*`)).length >= shipments,
        { timeoutMs: 120_000, intervalMs: 100, description: `${shipments} shipments in Redis` },
      );
      const keys = await harness.redis.keys(`${harness.redisKeyNamespace}*`);
      if (keys.length > 0) await harness.redis.del(...keys);
      await harness.pool.query(`TRUNCATE ${harness.pgSchema}.shipment_state`);
      await harness.waitUntilSettled(streams, settledOutputs(inputs), 240_000);
      await streams.kill('SIGTERM');
      const lostView = await checkPipeline(harness);
      const broken = chaosOutcome({
        scenario: this.name,
        variant: 'broken',
        guarantee,
        faults: 1,
        recoverySeconds: null,
        findings: lostView,
        stores: await viewStores(harness),
        observed: [`${keys.length} Redis keys deleted and the table emptied; no rebuild`],
      });

      const rebuildStarted = Date.now();
      const admin = ctx.kafka.admin();
      await admin.connect();
      let report: Awaited<ReturnType<typeof rebuildView>>;
      try {
        report = await rebuildView(
          {
            kafka: ctx.kafka,
            admin,
            config: ctx.config,
            topic: harness.topics.shipmentState,
            decode: async (b) => (await harness.registry.decode(b)) as UnifiedShipmentState,
            sinks: [
              new ShipmentStateRedisSink(harness.redis, { keys: harness.redisKeys }),
              new ShipmentStatePostgresSink(harness.pool, { schema: harness.pgSchema }),
            ],
            groupPrefix: uniqueName('test-chaos-rebuild'),
          },
          {},
        );
      } finally {
        await admin.disconnect();
      }
      const recoverySeconds = secondsSince(rebuildStarted);
      const findings = await checkPipeline(harness);
      const sound = chaosOutcome({
        scenario: this.name,
        variant: 'sound',
        guarantee,
        faults: 1,
        recoverySeconds,
        findings,
        stores: await viewStores(harness),
        observed: [
          `rebuild read ${report.records} states, applied ${JSON.stringify(report.applied)}`,
        ],
      });
      return {
        outcomes: [sound, broken],
        facts: { wipedMidStream: wipedAt.midStream, wipedKeys: keys.length },
        findings,
      };
    });
  },
};

/**
 * SIGKILL one node of a three-node cluster (replication factor 3, min.insync.replicas 2) while
 * the pipeline works — the node leading the most of its partitions, so group and transaction
 * coordinators and partition leaders move — carry on with two nodes, then start it again: no
 * manual step, nothing lost, exactly-once nothing applied twice. The broken variant's runtime
 * committed input it never processed (the cleaner's offsets 5 records ahead per partition).
 */
export const brokerKilled: ChaosScenario = {
  name: 'broker-killed',
  summary:
    'one Kafka node of three SIGKILLed under load, the pipeline carrying on with two, the node restarted: nothing lost; exactly-once also nothing applied twice',
  async run(ctx, { guarantee, variant }) {
    const cluster = ctx.cluster;
    if (!cluster) throw new Error('broker-killed needs a three-node cluster (ctx.cluster)');
    return withHarness(ctx, async (harness) => {
      await harness.seed(simulation(ctx.size, 6_021_733, 1));
      await harness.startSinks();
      const inputs = await foldInputs(harness);
      const cleanCount = cleanReadingsOf(inputs);
      const total = 2 * cleanCount;
      // Broken: input committed unprocessed before the start (see streams-sigstop).
      const skipped = variant === 'broken' ? await commitUnprocessedInput(harness, 5) : 0;
      const streams = await harness.startStreams(guarantee);
      const step = (what: string): void => {
        if (process.env.PIPELINE_DEBUG_LOG)
          process.stderr.write(`[broker-killed] ${new Date().toISOString()} ${what}\n`);
      };
      const killedAt = await untilProgress(
        harness,
        streams,
        cleanCount,
        Math.floor(total / 4),
        'a quarter of the run before the broker is killed',
      );
      step(`progress ${killedAt.progress} of ${total}`);
      const topics = Object.values(harness.topics);
      const leaders = await cluster.leaders(topics);
      const victim = [...leaders].sort((a, b) => b[1] - a[1])[0]?.[0] ?? cluster.nodeIds[0] ?? 1;
      await cluster.kill(victim);
      const killed = Date.now();
      step(`killed node ${victim}`);
      const withTwo = await untilProgress(
        harness,
        streams,
        cleanCount,
        Math.floor(total / 2),
        'the pipeline to carry on with two nodes',
      );
      const carriedOnSeconds = secondsSince(killed);
      step(`half the run done; restarting node ${victim}`);
      await cluster.restart(victim);
      const restarted = Date.now();
      step('restarted');
      const expected = settledOutputs(inputs);
      await harness.waitUntilSettled(
        streams,
        { ...expected, cleanReadings: expected.cleanReadings - skipped },
        240_000,
      );
      const recoverySeconds = secondsSince(restarted);
      step('settled');
      const log = streams.tail();
      await streams.kill('SIGTERM');
      // The restarted node catches up: the cluster is whole again, with no step by anyone.
      await cluster.inSync(topics, 120_000);
      step('in sync');
      const findings = await checkPipeline(harness);
      const outcome = chaosOutcome({
        scenario: this.name,
        variant,
        guarantee,
        faults: 1,
        recoverySeconds,
        findings,
        stores: await viewStores(harness),
        observed: [
          `node ${victim} (leader of ${leaders.get(victim)} of ${[...leaders.values()].reduce((a, b) => a + b, 0)} partitions) killed; half the run done ${carriedOnSeconds}s later with two nodes`,
          ...(variant === 'broken' ? [`committed ${skipped} raw readings unprocessed`] : []),
        ],
      });
      return {
        outcomes: [outcome],
        facts: {
          killedMidStream: killedAt.midStream,
          carriedOnWithTwo: withTwo.progress >= Math.floor(total / 2),
          victimLeaders: leaders.get(victim) ?? 0,
          skipped,
          streamsStayedUp: !streams.failed,
          streamsLogTail: log.slice(-2_000),
        },
        findings,
      };
    });
  },
};

/**
 * The whole Kafka cluster (the scenario's own, one node in the short suite) stopped at a quarter
 * of the run and started again after `heldMs`: every client of the pipeline loses every
 * connection at once — `continuum streams`' consumers and transactional producers, the sinks'
 * consumers — and must carry on by itself once the cluster is back. Exactly-once: nothing lost,
 * nothing applied twice. The broken variant is a runtime that committed input it never
 * processed.
 */
export const brokerRestarted: ChaosScenario = {
  name: 'broker-restarted',
  summary:
    'the whole Kafka cluster stopped mid-run and started again: every client reconnects by itself; nothing lost, exactly-once also nothing applied twice',
  async run(ctx, { guarantee, variant }) {
    const cluster = ctx.cluster;
    if (!cluster)
      throw new Error('broker-restarted needs a Kafka cluster of its own (ctx.cluster)');
    const heldMs = ctx.size === 'long' ? 30_000 : 5_000;
    return withHarness(ctx, async (harness) => {
      await harness.seed(simulation(ctx.size, 3_090_127, 2));
      await harness.startSinks();
      const inputs = await foldInputs(harness);
      const cleanCount = cleanReadingsOf(inputs);
      const total = 2 * cleanCount;
      const skipped = variant === 'broken' ? await commitUnprocessedInput(harness, 5) : 0;
      const streams = await harness.startStreams(guarantee);
      const stoppedAt = await untilProgress(
        harness,
        streams,
        cleanCount,
        Math.floor(total / 4),
        'a quarter of the run before the cluster stops',
      );
      await cluster.stopAll();
      const stopped = Date.now();
      // Held down with no client able to reach it (a condition, not a sleep: the wait ends at
      // heldMs or as soon as continuum streams gives up, which is itself a failure).
      await waitFor(
        () => {
          if (streams.exited) throw new Error(`continuum streams exited:\n${streams.tail()}`);
          return Date.now() - stopped >= heldMs;
        },
        {
          timeoutMs: heldMs + 5_000,
          intervalMs: 100,
          description: `the cluster down ${heldMs} ms`,
        },
      );
      await cluster.startAll();
      const restarted = Date.now();
      const downSeconds = Math.round((restarted - stopped) / 100) / 10;
      const expected = settledOutputs(inputs);
      await harness.waitUntilSettled(
        streams,
        { ...expected, cleanReadings: expected.cleanReadings - skipped },
        240_000,
      );
      const recoverySeconds = secondsSince(restarted);
      const log = streams.tail();
      const streamsStayedUp = !streams.failed && !streams.exited;
      await streams.kill('SIGTERM');
      const findings = await checkPipeline(harness);
      const outcome = chaosOutcome({
        scenario: this.name,
        variant,
        guarantee,
        faults: 1,
        recoverySeconds,
        findings,
        stores: await viewStores(harness),
        observed: [
          `the whole cluster down ${downSeconds}s`,
          ...(variant === 'broken' ? [`committed ${skipped} raw readings unprocessed`] : []),
        ],
      });
      return {
        outcomes: [outcome],
        facts: {
          stoppedMidStream: stoppedAt.midStream,
          downSeconds,
          skipped,
          streamsStayedUp,
          streamsLogTail: log.slice(-2_000),
        },
        findings,
      };
    });
  },
};

/**
 * Stops the PostgreSQL that holds the shipments (CDC's source, seeded) and the view, starts the
 * pipeline, and starts PostgreSQL again once states were written and a few seconds passed: the
 * PostgreSQL sink's writes fail meanwhile, it retries with backoff and carries on from its
 * committed offsets, and the view ends equal to the fold. The broken variant is an
 * acknowledging sink (its failed batches acknowledged).
 */
export const postgresRestarted: ChaosScenario = {
  name: 'postgres-restarted',
  summary:
    'the PostgreSQL of the view down while the pipeline writes states, then started again: the sink retries and carries on, the view equal to the fold',
  async run(ctx, { guarantee }) {
    const postgres = ctx.postgres;
    if (!postgres)
      throw new Error('postgres-restarted needs a PostgreSQL of its own (ctx.postgres)');
    const heldMs = ctx.size === 'long' ? 20_000 : 3_000;
    return withHarness(ctx, async (harness) => {
      await harness.seed(simulation(ctx.size, 4_417_902, 1));
      await harness.startSinks();
      const inputs = await foldInputs(harness);
      const ack = await startAcknowledgingSink(ctx, harness);
      const states = (): Promise<number> =>
        countRecords(harness.kafka, harness.topics.shipmentState);
      try {
        // Down before the pipeline starts: the join writes its states within seconds of
        // starting, so a stop timed after the first of them would find nothing left to write.
        await postgres.down();
        const stopped = Date.now();
        const streams = await harness.startStreams(guarantee);
        // Held down until states were written meanwhile: the sinks had to fail on them.
        const statesWhileDown = await waitFor(
          async () => {
            if (streams.exited || streams.failed)
              throw new Error(`continuum streams stopped:\n${streams.tail()}`);
            if (Date.now() - stopped < heldMs) return false;
            const written = await states();
            return written > 0 ? written : false;
          },
          { timeoutMs: 120_000, intervalMs: 100, description: 'states written while down' },
        );
        await postgres.up();
        const restarted = Date.now();
        const downSeconds = Math.round((restarted - stopped) / 100) / 10;
        await harness.waitUntilSettled(streams, settledOutputs(inputs), 240_000);
        const recoverySeconds = secondsSince(restarted);
        await ack.caughtUp();
        await streams.kill('SIGTERM');
        const findings = await checkPipeline(harness);
        const observed = [
          `PostgreSQL down ${downSeconds}s while ${statesWhileDown} states were written`,
        ];
        const [sound, broken] = await ack.outcomes(
          { scenario: this.name, guarantee, findings },
          { recoverySeconds, observed },
        );
        return {
          outcomes: [sound, broken],
          facts: { statesWhileDown, downSeconds, droppedFlushes: ack.sink.dropped },
          findings,
        };
      } finally {
        await ack.stop();
      }
    });
  },
};

export const CHAOS_SCENARIOS: readonly ChaosScenario[] = [
  streamsSigkill,
  streamsSigstop,
  sinkBlocked,
  viewLost,
  postgresRestarted,
  brokerKilled,
  brokerRestarted,
];
