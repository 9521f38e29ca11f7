// The API against its floor, on the platform's own pipeline (bench/README.md "api-lookup"):
//  - GET /v1/shipments/:id through the whole API (auth, rate limit, validation, Redis read,
//    freshness, zod serialization) beside a bare Fastify route reading the same Redis hashes,
//    same process, same run, loopback, autocannon: requests/s and p99, first with the pipeline
//    idle, then while it runs at half its sustained rate;
//  - freshness at that half load: readings POSTed to /v1/telemetry until GET shows each
//    (state.positionTime = its event time), p50/p99, beside kafkajs produce → read_committed
//    consume of readings at the same rate.
// The pipeline (two stream applications exactly-once, the Redis state sink, the paced fleet)
// runs in a worker thread (bench/pipeline-thread.ts), on fresh topics, groups and keys.
import { setTimeout as delay } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import pg from 'pg';
import { apiKeyEntryText, parseApiKeys } from '../core/api-keys.ts';
import { startApiServer, type RunningApi } from '../api/server.ts';
import {
  shipmentHashKey,
  shipmentStateKeys,
} from '../connectors/sinks/redis/shipment-state-hash.ts';
import type { UnifiedShipmentState } from '../schemas/types.ts';
import { resolveApiLookupBenchOptions, type ApiLookupBenchOptions } from './api-lookup-options.ts';
import type { BenchFigure, Benchmark } from './benchmark.ts';
import { PipelineBenchError, waitForDrain, type DrainStage } from './pipeline-kafka.ts';
import { resolvePipelineBenchOptions } from './pipeline-options.ts';
import { sustainedRates } from './pipeline.ts';
import { freshnessReading, freshnessShipmentId } from './pipeline-records.ts';
import {
  anyOf,
  createRowTopics,
  idempotentProducer,
  PHASE_TIMEOUT_MS,
  pipelineDrainLevels,
  PIPELINE_TOPIC_ROLES,
  pipelineTopologies,
  produceFreshnessShipments,
  rawFreshness,
  schemaId,
  withPipelineRun,
  type PipelineRun,
} from './pipeline-run.ts';
import { PipelineThread, type FeedResult } from './pipeline-thread.ts';
import { mean, roundRobin, summarizeLatencies, type LatencySummary } from './pipeline-stats.ts';

export const apiLookupBenchmark: Benchmark = {
  name: 'api-lookup',
  run: (ctx) => {
    const pipeline = resolvePipelineBenchOptions(ctx.options?.pipeline);
    const options = resolveApiLookupBenchOptions(ctx.options?.['api-lookup']);
    // The client `continuum streams` runs on here, not the pipeline benchmark's list.
    const client = ctx.config.streams.client;
    // In the benchmark's worker thread, as one `continuum streams` thread runs them.
    const threads: ['one'] = ['one'];
    return withPipelineRun(ctx, { ...pipeline, clients: [client], threads }, 'api-lookup', (run) =>
      apiLookupRows(run, options),
    );
  },
};

const CONNECTIONS = 20;
/** How long the paced fleet runs before a measurement starts, so it meets a steady pipeline. */
const SETTLE_MS = 3_000;
/** How often a freshness probe looks its shipment up: the figures' resolution. */
const POLL_MS = 20;
/** A probe reading not readable within this is lost or stuck: the run fails. */
const PROBE_TIMEOUT_MS = 60_000;

interface Lookups {
  rps: number;
  p99: number;
}

/** Loads `paths` (in turn) on `url` for `seconds` with autocannon; fails on any non-2xx. */
async function load(
  url: string,
  paths: readonly string[],
  seconds: number,
  headers: Record<string, string>,
): Promise<Lookups> {
  const next = roundRobin(paths);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: next() }) }],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new PipelineBenchError(
      `${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`,
    );
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/**
 * The lookup pair on the same shipments, in A-B-B-A order, half of `seconds` at a time: a drift
 * of the machine's load (the pipeline, other work on the same cores) then weighs on both routes
 * alike. Requests/s and p99 are the means of each route's two halves.
 */
async function lookupPair(
  api: { url: string; key: string },
  bareUrl: string,
  shipmentIds: readonly string[],
  seconds: number,
): Promise<{ api: Lookups; bare: Lookups; halves: string }> {
  const half = Math.max(1, Math.round(seconds / 2));
  const viaApi = (): Promise<Lookups> =>
    load(
      api.url,
      shipmentIds.map((id) => `/v1/shipments/${id}`),
      half,
      { 'x-api-key': api.key },
    );
  const viaBare = (): Promise<Lookups> =>
    load(
      bareUrl,
      shipmentIds.map((id) => `/shipments/${id}`),
      half,
      {},
    );
  const a1 = await viaApi();
  const b1 = await viaBare();
  const b2 = await viaBare();
  const a2 = await viaApi();
  const both = (x: Lookups, y: Lookups): Lookups => ({
    rps: mean([x.rps, y.rps]),
    p99: mean([x.p99, y.p99]),
  });
  const rps = [a1, b1, b2, a2].map((h) => Math.round(h.rps)).join(' / ');
  return { api: both(a1, a2), bare: both(b1, b2), halves: `${rps} requests/s` };
}

function lookupFigures(
  label: string,
  measured: { api: Lookups; bare: Lookups; halves: string },
  conditions: string,
): BenchFigure[] {
  // Each half, so a disturbed one (other work on the machine) shows.
  const notes = `${conditions}; halves API / bare / bare / API: ${measured.halves}`;
  return [
    {
      name: `GET /v1/shipments/:id (API, ${label})`,
      value: measured.api.rps,
      unit: 'requests/s',
      baseline: { name: 'bare Fastify route, same Redis hashes', value: measured.bare.rps },
      notes,
    },
    {
      name: `GET /v1/shipments/:id p99 (API, ${label})`,
      value: measured.api.p99,
      unit: 'ms',
      baseline: { name: 'bare Fastify route p99', value: measured.bare.p99 },
      notes,
    },
  ];
}

/** Fastify with one route that reads a shipment's Redis hash and sends it as JSON. */
async function startBareRoute(
  redis: Redis,
  namespace: string,
): Promise<{ app: FastifyInstance; url: string }> {
  const keys = shipmentStateKeys(namespace);
  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/shipments/:id', async (request) =>
    redis.hgetall(shipmentHashKey(keys, request.params.id)),
  );
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

/** A reading per vehicle, so every shipment has a state with a position in Redis. */
async function warmUpReadings(
  run: PipelineRun,
  producer: Producer,
  fleet: { topic: string; schemaId: number; origin: number },
): Promise<void> {
  const now = Date.now();
  const messages = await Promise.all(
    Array.from({ length: run.options.freshnessVehicles }, async (_, vehicle) => {
      // Event ids of their own: the fleet thread numbers its readings from 1.
      const event = {
        ...freshnessReading(vehicle, 0, now, fleet.origin),
        eventId: `warm-up-${vehicle}`,
      };
      return {
        key: event.vehicleId,
        value: await run.registry.encode(fleet.schemaId, event),
        timestamp: String(now),
      };
    }),
  );
  await producer.send({ topic: fleet.topic, acks: -1, messages });
}

/** Waits SETTLE_MS; an abort fails with its reason (an interrupt, the pipeline's error). */
async function settle(signal: AbortSignal): Promise<void> {
  await delay(SETTLE_MS, undefined, { signal }).catch(() => signal.throwIfAborted());
}

/** Deletes every Redis key that starts with `prefix`. */
async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

async function apiLookupRows(
  run: PipelineRun,
  options: ApiLookupBenchOptions,
): Promise<BenchFigure[]> {
  const { ctx, scope, log } = run;
  const vehicles = run.options.freshnessVehicles;
  const probes = Math.min(options.probes, vehicles - 1);
  const lookupSeconds = Math.max(2, Math.round(10 * ctx.scale));
  const windowSeconds = Math.max(5, Math.round(run.options.freshnessSeconds * ctx.scale));
  const client = ctx.config.streams.client;

  const { topics, ids } = await createRowTopics(run, 'api', PIPELINE_TOPIC_ROLES);
  const prefix = scope.name('api');
  const { topologies } = await pipelineTopologies(run, prefix, topics, ids);
  const sinkGroupId = scope.group('api-sink-redis');
  const namespace = `${scope.name('api')}:`;
  const redis = new Redis(ctx.config.redis.url);
  scope.also('Redis keys', async () => {
    await deleteKeysUnder(redis, namespace);
    await redis.quit();
  });
  const postgresSchema = `bench_${scope.runId}`;
  scope.also('PostgreSQL schema', async () => {
    const pool = new pg.Pool({ connectionString: ctx.config.postgres.url, max: 1 });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS "${postgresSchema}" CASCADE`);
    } finally {
      await pool.end();
    }
  });
  const producer = idempotentProducer(run.kafka);
  await producer.connect();
  scope.also('kafkajs producer', () => producer.disconnect());
  await produceFreshnessShipments(run, producer, topics, ids);
  const levels: DrainStage[][] = [
    ...pipelineDrainLevels(topologies, topics),
    [{ groupId: sinkGroupId, topic: topics.shipmentState, transactional: true }],
  ];
  const shipmentIds = Array.from({ length: vehicles }, (_, i) => freshnessShipmentId(i));
  const origin = Date.now();
  const key = `ck_bench_${randomBytes(24).toString('base64url')}`;

  log.info({ client, vehicles, probes }, 'starting the pipeline thread');
  const thread = await PipelineThread.start(
    {
      config: ctx.config,
      client,
      prefix,
      topics,
      ids,
      graceMs: run.options.graceMs,
      redisKeyNamespace: namespace,
      sinkGroupId,
      vehicles,
      reserved: probes,
      origin,
    },
    run.interrupted,
  );
  const failed = anyOf(thread.failed, run.interrupted);
  const drained = (description: string): Promise<number> =>
    waitForDrain(run.admin, levels, { timeoutMs: PHASE_TIMEOUT_MS, description, signal: failed });
  let api: RunningApi | undefined;
  let bare: { app: FastifyInstance; url: string } | undefined;
  try {
    api = await startApiServer(
      {
        ...ctx.config,
        // One key whose limit the load cannot reach: the limiter still runs on every request.
        api: {
          ...ctx.config.api,
          keys: parseApiKeys(`${apiKeyEntryText('bench', ['read', 'ingest'], key)}:100000000`),
        },
      },
      run.quiet,
      {
        host: '127.0.0.1',
        port: 0,
        deps: {
          stateTopic: topics.shipmentState,
          telemetryTopic: topics.telemetryRaw,
          redisKeyNamespace: namespace,
          postgresSchema,
          telemetryCollection: `${postgresSchema}_telemetry`,
          lagGroups: new Map([
            [topologies[0].applicationId, 'stream application: telemetry cleaning'],
            [topologies[1].applicationId, 'stream application: shipment state join'],
            [sinkGroupId, 'sink: Redis'],
          ]),
          groupPrefix: scope.name('api-server'),
        },
      },
    );
    bare = await startBareRoute(redis, namespace);
    const target = { url: api.url, key };

    // Every shipment in transit with a position, in Redis.
    await warmUpReadings(run, producer, {
      topic: topics.telemetryRaw,
      schemaId: schemaId(ids, 'telemetryRaw'),
      origin,
    });
    await drained('warm-up: a reading per vehicle through the pipeline and the Redis sink');

    // Idle: the applications and the sink run, no input.
    await lookupPair(target, bare.url, shipmentIds, 2); // JIT, connections: 1 s each, twice
    const idle = await lookupPair(target, bare.url, shipmentIds, lookupSeconds);
    log.info({ idle }, 'lookups measured, pipeline idle');

    // Half load: half what the pipeline sustains, as the pipeline benchmark's freshness rows
    // pace theirs (its throughput row, run here on this client). A burst of this fleet's own
    // readings is no measure of it: a vehicle's ~30 readings in one fetched batch hit the same
    // store keys, and paced at half of what a burst said, the pipeline fell behind.
    let sustained: { rate: number; conditions: string } | undefined;
    if (options.loadRate === undefined) {
      const measured = await sustainedRates(run);
      const value = measured.rates.get(`${client} client`);
      if (value === undefined) throw new PipelineBenchError(`no sustained rate for ${client}`);
      sustained = { rate: value, conditions: measured.conditions };
      log.info({ client, rate: Math.round(value) }, 'sustained rate measured');
    }
    const rate = options.loadRate ?? (sustained?.rate ?? 0) / 2;
    const rateOrigin =
      sustained === undefined
        ? 'as given (--load-rate)'
        : `half the ${Math.round(sustained.rate)} events/s the pipeline sustained in this run (${sustained.conditions})`;

    // Under load.
    await thread.startFeed(rate);
    await settle(failed);
    const loaded = await lookupPair(target, bare.url, shipmentIds, lookupSeconds);
    const loadFeed = await thread.stopFeed();
    const loadStopped = Date.now();
    const loadCaughtUp = (await drained('after the lookups under load')) - loadStopped;
    log.info({ loaded, feed: loadFeed, caughtUpMs: loadCaughtUp }, 'lookups measured under load');

    // Freshness at the same load.
    await thread.startFeed(rate);
    await settle(failed);
    const fresh = await probeFreshness(target, {
      probes,
      origin,
      windowMs: windowSeconds * 1000,
      signal: failed,
    });
    const freshFeed = await thread.stopFeed();
    await drained('after the freshness probes');
    const counts = await thread.stop();
    log.info({ ...fresh.summary, feed: freshFeed }, 'freshness measured');

    // Baseline, with the pipeline stopped: the same rate through kafkajs alone.
    const raw = await rawFreshness(
      { ...run, options: { ...run.options, freshnessSeconds: windowSeconds } },
      rate,
    );
    log.info({ ...raw }, 'kafkajs produce → consume latency measured');

    const feedNote = (feed: FeedResult): string =>
      `${feed.sent} readings in ${feed.seconds.toFixed(1)} s (${Math.round(feed.sent / feed.seconds)}/s)`;
    const pipelineNote = `the platform's two stream applications (${client} client, exactly-once, grace ${run.options.graceMs} ms) and the Redis state sink in a worker thread of this process, on ${vehicles} vehicles each with a shipment in transit, ${run.options.partitions} partitions`;
    const lookupNote = `${lookupSeconds} s each in A-B-B-A halves (figures: means of the halves), ${CONNECTIONS} connections, loopback, autocannon in this process; lookups of the ${vehicles} shipments in turn`;
    const figures = [
      ...lookupFigures(
        'idle',
        idle,
        `${lookupNote}; ${pipelineNote}, started and drained, no input`,
      ),
      ...lookupFigures(
        'pipeline at half load',
        loaded,
        `${lookupNote}; ${pipelineNote}, fed ${feedNote(loadFeed)} throughout, ${rateOrigin}; drained ${loadCaughtUp} ms after the feed stopped`,
      ),
    ];
    const freshNote = `${fresh.summary.count} readings POSTed to /v1/telemetry by ${probes} probe vehicles (one reading at a time each, its shipment looked up every ${POLL_MS} ms until state.positionTime = its event time; ${fresh.posts} POSTs, ${fresh.lookups} lookups) in a ${windowSeconds} s window, max ${Math.round(fresh.summary.max)} ms, while the other vehicles were fed ${feedNote(freshFeed)}, ${rateOrigin}; ${pipelineNote}; reorder grace ${run.options.graceMs} ms${run.options.graceMs === 0 ? ' (the platform default, 60 s, adds itself to these figures)' : ''}; baseline: ${raw.count} readings at the same rate, pipeline stopped; ${counts}`;
    for (const q of ['p50', 'p99'] as const) {
      figures.push({
        name: `freshness ${q}: telemetry POST → readable via GET /v1/shipments/:id (half load)`,
        value: fresh.summary[q],
        unit: 'ms',
        baseline: {
          name: `kafkajs idempotent produce → read_committed consume, same rate, ${q}`,
          value: raw[q],
        },
        notes: freshNote,
      });
    }
    return figures;
  } finally {
    await bare?.app.close();
    await api?.close();
    await thread.stop().catch((err: unknown) => log.warn({ err }, 'pipeline thread stop failed'));
  }
}

interface ProbeResult {
  summary: LatencySummary;
  posts: number;
  lookups: number;
}

/**
 * `probes` vehicles (0 … probes − 1, which the fleet leaves alone) each POST a reading stamped
 * with the wall clock, look their shipment up every POLL_MS until its state shows that reading,
 * and go again, for `windowMs`. A reading's freshness: when the lookup showed it − its event time.
 */
async function probeFreshness(
  api: { url: string; key: string },
  options: { probes: number; origin: number; windowMs: number; signal: AbortSignal },
): Promise<ProbeResult> {
  // The first probe that fails stops the others.
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const latencies: number[] = [];
  let posts = 0;
  let lookups = 0;
  const headers = { 'content-type': 'application/json', 'x-api-key': api.key };
  const from = Date.now();
  const to = from + options.windowMs;
  const probe = async (vehicle: number): Promise<void> => {
    const shipmentId = freshnessShipmentId(vehicle);
    for (let n = 1; Date.now() < to; n++) {
      const eventTime = Date.now();
      const reading = {
        ...freshnessReading(vehicle, n, eventTime, options.origin),
        eventId: `probe-${vehicle}-${n}`,
      };
      const posted = await fetch(`${api.url}/v1/telemetry`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ events: [reading] }),
        signal,
      });
      posts += 1;
      const answer = (await posted.json()) as { accepted?: number };
      if (posted.status !== 202 || answer.accepted !== 1)
        throw new PipelineBenchError(
          `POST /v1/telemetry answered ${posted.status}: ${JSON.stringify(answer)}`,
        );
      for (;;) {
        const res = await fetch(`${api.url}/v1/shipments/${shipmentId}`, {
          headers: { 'x-api-key': api.key },
          signal,
        });
        lookups += 1;
        const seenAt = Date.now();
        if (res.status !== 200)
          throw new PipelineBenchError(`GET /v1/shipments/${shipmentId} answered ${res.status}`);
        const { state } = (await res.json()) as { state: UnifiedShipmentState };
        if (state.positionTime === eventTime) {
          if (eventTime < to) latencies.push(seenAt - eventTime);
          break;
        }
        if ((state.positionTime ?? 0) > eventTime)
          throw new PipelineBenchError(
            `${shipmentId} shows a position of ${state.positionTime}, after the probe's ${eventTime}`,
          );
        if (seenAt - eventTime > PROBE_TIMEOUT_MS)
          throw new PipelineBenchError(
            `the reading of ${reading.vehicleId} at ${eventTime} was not readable within ${PROBE_TIMEOUT_MS} ms`,
          );
        await delay(POLL_MS, undefined, { signal }).catch(() => signal.throwIfAborted());
      }
    }
  };
  await Promise.all(
    Array.from({ length: options.probes }, (_, vehicle) =>
      probe(vehicle).catch((err: unknown) => {
        stop.abort(err);
        throw err;
      }),
    ),
  );
  return { summary: summarizeLatencies(latencies), posts, lookups };
}
