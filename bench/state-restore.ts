// Restart to ready with a large store: the anchor topology's store filled with 1,000,000 keys
// (written to its changelog as the store's commits would), then the time from `start()` until
// the task has restored and is ready, three ways in one run — in memory (a full changelog read,
// the baseline), on disk without a checkpoint (as after a crash: the disk is wiped and filled
// from the whole changelog), and on disk after a clean stop (only the changelog's tail since
// the checkpoint). Each row checks what it restored from where.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import { Registry } from 'prom-client';
import { createKafkaClient } from '../core/kafka-client.ts';
import { repoRoot } from '../core/paths.ts';
import { createStreamsClient } from '../streams/runtime/clients/create-streams-client.ts';
import { StreamsApplication } from '../streams/runtime/streams-application.ts';
import { changelogTopic } from '../streams/runtime/topology.ts';
import { anchorTopology, type Reading } from './backlog.ts';
import { restoredRecords, taskRestored } from './restore-metrics.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { BenchProgress, benchProgressOptions } from './bench-progress.ts';
import {
  BenchScope,
  PipelineBenchError,
  produceAll,
  RssSampler,
  type OutboundRecord,
} from './pipeline-kafka.ts';
import { mebibytes } from './pipeline-stats.ts';

const DEFAULT_KEYS = 1_000_000;
const PHASE_TIMEOUT_MS = 900_000;
const STORE = 'latest-reading';
/** Keys of the heap-capped row, and the cap: the state is several times the heap. */
const DEFAULT_CAPPED_KEYS = 5_000_000;
const HEAP_CAP_MIB = 256;
const FILL_CHUNK = 100_000;

export const stateRestoreBenchmark: Benchmark = {
  name: 'state-restore',
  run: (ctx) => runStateRestore(ctx),
};

interface RestartRow {
  seconds: number;
  /** Of `seconds`, reading the changelog into the store (the restore histogram). */
  restoreSeconds: number;
  peakBytes: number;
  fromBeginning: number;
  fromCheckpoint: number;
}

function storeRecords(topic: string, from: number, count: number): OutboundRecord[] {
  const start = Date.now() - 86_400_000;
  const records: OutboundRecord[] = [];
  for (let i = from; i < from + count; i++) {
    const reading: Reading = {
      vehicleId: `V-${i}`,
      eventTime: start + i,
      lat: 50 + (i % 1000) / 10_000,
      lon: 7 + (i % 777) / 10_000,
      speed: 40 + (i % 60),
      fuelPct: 50 + (i % 50),
      odometerKm: 10_000 + i / 100,
      note: 'a reading of the restore benchmark',
    };
    records.push({
      topic,
      message: { key: reading.vehicleId, value: JSON.stringify(reading), partition: 0 },
    });
  }
  return records;
}

async function runStateRestore(ctx: BenchContext): Promise<BenchFigure[]> {
  const log = ctx.log.child({ bench: 'state-restore' });
  const quiet = log.child({}, { level: 'warn' });
  const keys = Math.max(10_000, Math.round(DEFAULT_KEYS * ctx.scale));
  const kafka = createKafkaClient(ctx.config, 'bench-state-restore', quiet);
  const scope = new BenchScope(kafka, ctx.config.schemaRegistry.url, log);
  const progress = benchProgressOptions(log);
  const stateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-bench-state-'));
  await scope.admin.connect();
  try {
    const input = scope.topic('restore.input');
    const output = scope.topic('restore.output');
    await scope.createTopics([input, output], 1);
    const applicationId = scope.name('restore');
    const topology = anchorTopology(applicationId, input, output);
    await scope.prepare(topology, 1);
    /** Writes `count` keys to a store's changelog as its commits would, in chunks (no array of millions). */
    const fillChangelog = async (appId: string, count: number): Promise<void> => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const bar = new BenchProgress(`state-restore: filling ${appId}'s changelog`, count, progress);
      try {
        for (let from = 0; from < count; from += FILL_CHUNK) {
          const chunk = storeRecords(
            changelogTopic(appId, STORE),
            from,
            Math.min(FILL_CHUNK, count - from),
          );
          await produceAll(producer, chunk, { update: (done) => bar.update(from + done) });
        }
      } finally {
        bar.stop();
        await producer.disconnect();
      }
    };
    await fillChangelog(applicationId, keys);

    const restart = async (persistent: boolean): Promise<RestartRow> => {
      const registry = new Registry();
      const app = new StreamsApplication({
        topology,
        client: createStreamsClient(ctx.config, 'kafkajs', quiet),
        log: quiet,
        guarantee: 'exactly-once',
        metricsRegistry: registry,
        persistentStores: persistent,
        stateDir,
      });
      const rss = new RssSampler();
      const started = performance.now();
      let restoreSeconds = 0;
      try {
        await app.start();
        restoreSeconds = await taskRestored(registry, {
          timeoutMs: PHASE_TIMEOUT_MS,
          description: `the task restored (${persistent ? 'disk' : 'memory'})`,
        });
      } finally {
        await app.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      return {
        seconds,
        restoreSeconds,
        ...(await restoredRecords(registry)),
        peakBytes: rss.stop(),
      };
    };

    // Disk first: the in-memory row's heap would otherwise stay in the process's RSS.
    log.info({ keys }, 'restart on disk without a checkpoint');
    const wiped = await restart(true);
    log.info({ keys }, 'restart on disk with the checkpoint the last stop left');
    const checkpointed = await restart(true);
    log.info({ keys }, 'restart in memory (full changelog restore)');
    const memory = await restart(false);

    // State several times the heap: a child process with the heap capped restores it to disk.
    const cappedKeys = Math.max(20_000, Math.round(DEFAULT_CAPPED_KEYS * ctx.scale));
    const cappedApp = scope.name('restore-capped');
    await scope.prepare(anchorTopology(cappedApp, input, output), 1);
    await fillChangelog(cappedApp, cappedKeys);
    log.info({ keys: cappedKeys, heapCapMiB: HEAP_CAP_MIB }, 'restore on disk, heap capped');
    const capped = await restoreCapped([cappedApp, input, output, stateDir]);
    const lmdbBytes =
      statSync(nodePath.join(stateDir, cappedApp, 'stores', 'data.mdb')).blocks * 512;

    const check = (row: string, got: RestartRow, beginning: number, tail: number): void => {
      if (got.fromBeginning !== beginning || got.fromCheckpoint !== tail)
        throw new PipelineBenchError(
          `${row}: restored ${got.fromBeginning} records from the beginning and ${got.fromCheckpoint} after a checkpoint, expected ${beginning} and ${tail}`,
          { context: { row, ...got } },
        );
    };
    check('memory', memory, keys, 0);
    check('disk without checkpoint', wiped, keys, 0);
    check('disk with checkpoint', checkpointed, 0, 0);
    if (capped.fromBeginning !== cappedKeys)
      throw new PipelineBenchError(
        `heap-capped restore: ${capped.fromBeginning} records restored, expected ${cappedKeys}`,
        { context: { ...capped } },
      );

    const n = keys.toLocaleString('en-US');
    const baseline = { name: `full changelog restore into memory`, value: memory.seconds };
    const note = (row: RestartRow): string =>
      `start() → task ready, incl. group join; restore itself ${row.restoreSeconds.toFixed(2)} s (memory: ${memory.restoreSeconds.toFixed(2)} s); kafkajs, 1 partition`;
    return [
      {
        name: `restart to ready, ${n} keys, store on disk with checkpoint`,
        value: checkpointed.seconds,
        unit: 's',
        baseline,
        notes: note(checkpointed),
      },
      {
        name: `restart to ready, ${n} keys, store on disk without checkpoint (crash)`,
        value: wiped.seconds,
        unit: 's',
        baseline,
        notes: note(wiped),
      },
      {
        name: `restore of ${cappedKeys.toLocaleString('en-US')} keys to a store on disk, heap capped at ${HEAP_CAP_MIB} MiB`,
        value: cappedKeys / capped.seconds,
        unit: 'events/s',
        baseline: {
          name: `full restore of ${n} keys into memory, no cap`,
          value: keys / memory.seconds,
        },
        notes: `start → ready; peak heap ${mebibytes(capped.peakHeapBytes).toFixed(0)} MiB of a ${mebibytes(capped.heapLimitBytes).toFixed(0)} MiB limit, peak RSS ${mebibytes(capped.peakRssBytes).toFixed(0)} MiB, LMDB file ${mebibytes(lmdbBytes).toFixed(0)} MiB`,
      },
      {
        name: `restart peak RSS, ${n} keys, store on disk with checkpoint`,
        value: mebibytes(checkpointed.peakBytes),
        unit: 'MiB',
        baseline: { name: 'full restore into memory', value: mebibytes(memory.peakBytes) },
        notes: 'RSS of the benchmark process; the disk rows run first, the in-memory row last',
      },
    ];
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    await scope.cleanup();
    await scope.admin.disconnect();
  }
}

interface CappedResult {
  seconds: number;
  fromBeginning: number;
  peakHeapBytes: number;
  peakRssBytes: number;
  heapLimitBytes: number;
}

/** Runs bench/state-restore-capped.ts with the heap capped and returns what it printed. */
async function restoreCapped(args: string[]): Promise<CappedResult> {
  const child = spawn(
    `${repoRoot}/node_modules/.bin/node`,
    [`--max-old-space-size=${HEAP_CAP_MIB}`, `${repoRoot}/bench/state-restore-capped.ts`, ...args],
    { cwd: repoRoot, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{'))
    throw new PipelineBenchError(`heap-capped restore exited with ${code}: ${stderr.trim()}`, {
      context: { code },
    });
  return JSON.parse(line) as CappedResult;
}
