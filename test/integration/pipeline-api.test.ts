// The API over the whole running pipeline, as a user meets it: the simulator writes shipments
// and telemetry, CDC, `continuum streams` and the sinks materialize them, and the API answers
// from what they wrote — lookups, lists, the map and telemetry history equal to the offline
// fold of the inputs; a lost view rebuilt by a replay equals it again; telemetry posted to the
// API shows in the shipment's state, in a lookup and on its live event stream.
import type { Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import { apiKeyEntryText, parseApiKeys } from '../../core/api-keys.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { startApiServer, type RunningApi } from '../../api/server.ts';
import type { UnifiedShipmentState, VehicleTelemetry } from '../../schemas/types.ts';
import { createKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { firstLines, foldInputs, settledOutputs } from '../support/pipeline/pipeline-checks.ts';
import { PipelineHarness } from '../support/pipeline/pipeline-harness.ts';
import { diffShipmentState, type PipelineFold } from '../support/pipeline/reference-fold.ts';
import { FOLD_SIMULATION } from '../support/pipeline/simulations.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');
const KEY = `ck_test_pipeline_${'z'.repeat(32)}`;

interface Lookup {
  state: UnifiedShipmentState;
  freshness: { source: string; newestInputEventTime: number };
}

describe('the API over the running pipeline', () => {
  let kafka: Kafka;
  let harness: PipelineHarness;
  let api: RunningApi;
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${api.url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const post = (path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify(body),
    });

  /** Every shipment the API's list returns, page by page. */
  const listAll = async (query: string): Promise<UnifiedShipmentState[]> => {
    const all: UnifiedShipmentState[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: UnifiedShipmentState[]; nextCursor: string | null } } =
        await get(`/v1/shipments?${query}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return all;
  };

  /** Lookups of every shipment of the fold, against its expected state. */
  const lookupDiffs = async (fold: PipelineFold): Promise<string[]> => {
    const diffs: string[] = [];
    for (const [id, expectation] of fold.expected) {
      const { status, body } = await get<Lookup>(`/v1/shipments/${id}`);
      if (status !== 200) diffs.push(`${id}: HTTP ${status}`);
      else diffs.push(...diffShipmentState(expectation, body.state));
    }
    return diffs;
  };

  beforeAll(async () => {
    kafka = createKafka(config, 'pipeline-api');
    harness = await PipelineHarness.create(config, kafka, log);
    api = await startApiServer(
      {
        ...config,
        api: {
          ...config.api,
          keys: parseApiKeys(apiKeyEntryText('ops', ['read', 'ingest', 'replay'], KEY)),
        },
      },
      log,
      {
        host: '127.0.0.1',
        port: 0,
        deps: {
          stateTopic: harness.topics.shipmentState,
          telemetryTopic: harness.topics.telemetryRaw,
          redisKeyNamespace: harness.redisKeyNamespace,
          postgresSchema: harness.pgSchema,
          telemetryCollection: harness.telemetryCollection,
          lagGroups: new Map([
            [harness.shipmentStateAppId, 'stream application: shipment state join'],
            [harness.sinkGroupIds.redis, 'sink: Redis'],
          ]),
          lagRefreshMs: 1_000,
          groupPrefix: uniqueName('test-pipe-api'),
        },
      },
    );
  });

  afterAll(async () => {
    await (api as RunningApi | undefined)?.close();
    await (harness as PipelineHarness | undefined)?.cleanup();
  });

  it('answers from what the pipeline materialized, rebuilds a lost view, and shows posted telemetry live', async () => {
    const streams = await harness.startStreams('exactly-once');
    await harness.startSinks();
    await harness.startTelemetryHistorySink();
    await harness.seed(FOLD_SIMULATION);
    const fold = await foldInputs(harness);
    await harness.waitUntilSettled(streams, settledOutputs(fold));

    // Lookups: every shipment, field by field, as the fold says; fresh as its newest input.
    expect(firstLines(await lookupDiffs(fold))).toEqual([]);
    const [anyId, anyExpectation] = [...fold.expected][0] ?? [];
    const one = await get<Lookup>(`/v1/shipments/${anyId}`);
    expect(one.body.freshness.newestInputEventTime).toBe(anyExpectation?.state.stateUpdatedAt);

    // Lists: per status, exactly the fold's shipments, across pages.
    const statuses = new Set([...fold.expected.values()].map((e) => e.state.status));
    for (const status of statuses) {
      const listed = (await listAll(`status=${status}`)).map((s) => s.shipmentId).sort();
      const want = [...fold.expected.values()]
        .filter((e) => e.state.status === status)
        .map((e) => e.shipmentId)
        .sort();
      expect({ status, listed }).toEqual({ status, listed: want });
    }

    // The map: a shipment on the road is found near its own position.
    const onRoad = [...fold.expected.values()].find(
      (e) => e.state.lat !== null && e.state.status === 'IN_TRANSIT',
    );
    if (!onRoad) throw new Error('the simulation left no shipment in transit');
    const near = await get<{ items: { distanceKm: number; state: UnifiedShipmentState }[] }>(
      `/v1/shipments/near?lat=${onRoad.state.lat}&lon=${onRoad.state.lon}&radiusKm=1`,
    );
    expect(near.body.items.map((n) => n.state.shipmentId)).toContain(onRoad.shipmentId);

    // Telemetry history: every clean reading of the vehicle, in order, over pages.
    const vehicleId = onRoad.state.vehicleId as string;
    const history: VehicleTelemetry[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: VehicleTelemetry[]; nextCursor: string | null } } = await get(
        `/v1/vehicles/${vehicleId}/telemetry?from=2000-01-01T00:00:00Z&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      history.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(history.map((r) => r.eventId)).toEqual(
      (fold.telemetry.clean.get(vehicleId) ?? []).map((c) => c.reading.eventId),
    );

    // A lost view (Redis emptied, PostgreSQL's rows gone) rebuilt from shipment.state by a
    // replay, while the API serves: equal to the fold again.
    const redis = new Redis(config.redis.url);
    const keys = await redis.keys(`${harness.redisKeyNamespace}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await harness.pool.query(`DELETE FROM ${harness.pgSchema}.shipment_state`);
    expect((await get(`/v1/shipments/${anyId}`)).status).toBe(404);
    const started = await post('/v1/replays', { kind: 'rebuild-view' });
    expect(started.status).toBe(202);
    const { id: replayId } = (await started.json()) as { id: string };
    const job = await waitFor(
      async () => {
        const res = await fetch(`${api.url}/v1/replays/${replayId}`, {
          headers: { 'x-api-key': KEY },
        });
        const body = (await res.json()) as { status: string; result: { records: number } | null };
        return body.status === 'running' ? undefined : body;
      },
      { timeoutMs: 60_000, description: 'the view rebuild to end' },
    );
    expect(job.status).toBe('succeeded');
    expect(firstLines(await lookupDiffs(fold))).toEqual([]);

    // Telemetry posted to the API reaches the state: the lookup and the live stream show it.
    const last = (fold.telemetry.clean.get(vehicleId) ?? []).at(-1)?.reading as VehicleTelemetry;
    const posted: VehicleTelemetry = {
      ...last,
      eventId: uniqueName('posted'),
      eventTime: last.eventTime + 10_000,
      odometerKm: last.odometerKm + 0.1,
    };
    const events = fetch(`${api.url}/v1/shipments/${onRoad.shipmentId}/events`);
    const accepted = await post('/v1/telemetry', { events: [posted] });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({ accepted: 1, rejected: 0 });
    // The cleaner holds a reading for its grace period; quiet, it releases it.
    const seen = await waitFor(
      async () => {
        const { body } = await get<Lookup>(`/v1/shipments/${onRoad.shipmentId}`);
        return body.state.positionTime === posted.eventTime ? body.state : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'the posted reading in the state' },
    );
    expect(seen.version).toBeGreaterThan(onRoad.state.version);
    const stream = await events;
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    await waitFor(
      async () => {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
        return text.includes(`"positionTime":${posted.eventTime}`) || undefined;
      },
      { timeoutMs: 30_000, intervalMs: 0, description: 'the state on the live event stream' },
    );
    await reader.cancel();
  }, 300_000);
});
