// buildApp through inject(), on in-memory ports: every route's answers and its error paths,
// the problem+json shape, API keys and scopes, rate limits, back-pressure, SSE resumption and
// the generated OpenAPI document.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return --
   inject() answers are untyped JSON; the expectations are what checks their shape. */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { apiKeyEntryText, parseApiKeys } from '../core/api-keys.ts';
import type { ReplayRunners } from '../replay/replay-jobs.ts';
import { API_DEFAULTS, buildApp, type ApiOptions } from './app.ts';
import { shipmentState, T0, telemetryReading } from './fixtures.ts';
import { inMemoryDeps, InMemoryShipmentStates, type InMemoryDeps } from './in-memory-ports.ts';

const KEYS = {
  reader: 'ck_reader_0123456789abcdefghijklmnopqrstuvwxyzAB',
  ingest: 'ck_ingest_0123456789abcdefghijklmnopqrstuvwxyzAB',
  replay: 'ck_replay_0123456789abcdefghijklmnopqrstuvwxyzAB',
  admin: 'ck_admins_0123456789abcdefghijklmnopqrstuvwxyzAB',
};

const keyEntries = parseApiKeys(
  [
    apiKeyEntryText('reader', ['read'], KEYS.reader),
    apiKeyEntryText('ingest', ['ingest'], KEYS.ingest),
    apiKeyEntryText('replay', ['read', 'replay'], KEYS.replay),
    apiKeyEntryText('admin', ['admin'], KEYS.admin),
  ].join(';'),
);

/** Replay runners that finish at once with a recognisable result (the real ones need Kafka). */
function fakeRunners(block?: Promise<void>): ReplayRunners {
  return {
    resetOffsets: async (request, ctx) => {
      ctx.onProgress({ records: 1, total: 1, percent: 100, ratePerSecond: 1, etaSeconds: 0 });
      await block;
      return {
        rows: [{ group: request.group, topic: 'shipment.state', partition: 0, current: 5, new: 2 }],
        executed: request.execute,
      };
    },
    rebuildView: async (_request, ctx) => {
      await Promise.race([
        block,
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
      ]);
      return { records: 0, applied: {}, undecodable: 0, ranges: [] };
    },
    redriveDeadLetters: () =>
      Promise.resolve({
        dlq: 'telemetry.raw.dlq',
        matched: 0,
        alreadyRedriven: 0,
        redriven: 0,
        byReason: {},
        executed: false,
      }),
  };
}

async function appWith(
  deps: InMemoryDeps,
  options: Partial<ApiOptions> = {},
): Promise<FastifyInstance> {
  const app = await buildApp(deps, {
    ...API_DEFAULTS,
    keys: keyEntries,
    metricsRegistry: new Registry(),
    logger: false,
    maxEventLoopDelayMs: 0,
    sseHeartbeatMs: 60_000,
    ...options,
  });
  await app.ready();
  return app;
}

const REMOTE = { remoteAddress: '10.1.2.3' };

describe('buildApp', () => {
  let deps: InMemoryDeps;
  let app: FastifyInstance;

  beforeEach(async () => {
    deps = inMemoryDeps(fakeRunners(), [
      { name: 'redis', check: () => Promise.resolve() },
      { name: 'kafka', check: () => Promise.resolve() },
    ]);
    app = await appWith(deps);
  });

  afterEach(async () => {
    await app.close();
  });

  describe('GET /v1/shipments/:id', () => {
    it('answers the state from Redis with its freshness and the producing groups’ lag', async () => {
      deps.shipments.put(shipmentState());
      deps.lagGroups.push({
        group: 'continuum-shipment-state',
        role: 'stream application',
        lag: 3,
      });
      const res = await app.inject({ url: '/v1/shipments/SHP-000001' });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.state).toEqual(shipmentState());
      expect(body.freshness).toMatchObject({
        source: 'redis',
        newestInputEventTime: T0,
        lag: { groups: [{ group: 'continuum-shipment-state', lag: 3 }] },
      });
      expect(typeof body.freshness.ageMs).toBe('number');
    });

    it('falls back to PostgreSQL when Redis misses, and the seed’s route answers the same', async () => {
      const durable = new InMemoryShipmentStates().put(shipmentState({ shipmentId: 'SHP-9' }));
      const split = await appWith({ ...deps, hot: new InMemoryShipmentStates(), durable });
      try {
        const res = await split.inject({ url: '/v1/shipments/SHP-9' });
        expect(res.statusCode).toBe(200);
        expect(res.json().freshness.source).toBe('postgres');
        const seed = await split.inject({ url: '/shipments/SHP-9/unified' });
        expect(seed.json().state).toEqual(res.json().state);
      } finally {
        await split.close();
      }
    });

    it('answers 404 as problem+json with a stable code', async () => {
      const res = await app.inject({ url: '/v1/shipments/SHP-404' });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        type: 'about:blank',
        status: 404,
        code: 'SHIPMENT_NOT_FOUND',
        instance: '/v1/shipments/SHP-404',
      });
    });

    it('refuses an id that is not one (400 VALIDATION_FAILED naming the parameter)', async () => {
      const res = await app.inject({ url: '/v1/shipments/a%20b' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(res.json().errors[0].path).toBe('params.id');
    });

    it('answers 500 without the error’s text or stack when a store fails', async () => {
      const failing = await appWith({
        ...deps,
        hot: {
          get: () => Promise.reject(new Error('redis password=hunter2 at /srv/app.js:1')),
          near: () => Promise.resolve([]),
        },
      });
      try {
        const res = await failing.inject({ url: '/v1/shipments/SHP-1' });
        expect(res.statusCode).toBe(500);
        expect(res.json()).toMatchObject({ code: 'INTERNAL' });
        expect(res.body).not.toMatch(/hunter2|app\.js|at /);
      } finally {
        await failing.close();
      }
    });
  });

  describe('GET /v1/shipments', () => {
    beforeEach(() => {
      for (let i = 0; i < 5; i++)
        deps.shipments.put(
          shipmentState({
            shipmentId: `SHP-${i}`,
            status: i % 2 === 0 ? 'IN_TRANSIT' : 'DELIVERED',
            stateUpdatedAt: T0 + (i % 3) * 1000,
          }),
        );
    });

    it('pages through a filter in a stable order with keyset cursors', async () => {
      const first = await app.inject({ url: '/v1/shipments?status=IN_TRANSIT&limit=2' });
      expect(first.statusCode).toBe(200);
      const page1 = first.json();
      const ids = page1.items.map((s: { shipmentId: string }) => s.shipmentId);
      expect(page1.nextCursor).toEqual(expect.any(String));
      const second = await app.inject({
        url: `/v1/shipments?status=IN_TRANSIT&limit=2&cursor=${page1.nextCursor}`,
      });
      const page2 = second.json();
      const all = [...ids, ...page2.items.map((s: { shipmentId: string }) => s.shipmentId)];
      expect(all).toEqual(['SHP-0', 'SHP-4', 'SHP-2']);
      expect(page2.nextCursor).toBeNull();
    });

    it('filters by update time', async () => {
      const since = new Date(T0 + 2000).toISOString();
      const res = await app.inject({ url: `/v1/shipments?updatedSince=${since}` });
      expect(res.json().items.map((s: { shipmentId: string }) => s.shipmentId)).toEqual(['SHP-2']);
    });

    it('refuses unknown query parameters and cursors it did not hand out', async () => {
      const unknown = await app.inject({ url: '/v1/shipments?colour=red' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().code).toBe('VALIDATION_FAILED');
      const cursor = await app.inject({ url: '/v1/shipments?cursor=not-a-cursor' });
      expect(cursor.statusCode).toBe(400);
      expect(cursor.json().code).toBe('INVALID_CURSOR');
    });
  });

  describe('GET /v1/shipments/near', () => {
    it('answers the shipments on the way within the radius, nearest first', async () => {
      deps.shipments.put(
        shipmentState({ shipmentId: 'SHP-near', lat: 52.521, lon: 13.405 }),
        shipmentState({ shipmentId: 'SHP-far', lat: 48.137, lon: 11.575 }),
        shipmentState({ shipmentId: 'SHP-done', status: 'DELIVERED' }),
      );
      const res = await app.inject({ url: '/v1/shipments/near?lat=52.52&lon=13.405&radiusKm=5' });
      expect(res.statusCode).toBe(200);
      const items = res.json().items;
      expect(items.map((n: { state: { shipmentId: string } }) => n.state.shipmentId)).toEqual([
        'SHP-near',
      ]);
      // 0.001° of latitude from the query point: 0.111 km.
      expect(items[0].distanceKm).toBeCloseTo(0.111, 2);
    });

    it('refuses a latitude outside the GEO index’s band', async () => {
      const res = await app.inject({ url: '/v1/shipments/near?lat=89&lon=0&radiusKm=5' });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].path).toBe('querystring.lat');
    });
  });

  describe('GET /v1/vehicles/:id/telemetry', () => {
    beforeEach(() => {
      for (let i = 0; i < 3; i++)
        deps.telemetryHistory.readings.push({
          eventId: `e${i}`,
          vehicleId: 'VEH-1',
          eventTime: T0 + i * 1000,
          lat: 52,
          lon: 13,
          speedKmh: 40,
          headingDeg: 0,
          fuelPct: 50,
          engineTempC: 90,
          odometerKm: 1000 + i,
          source: { topic: 'telemetry.clean', partition: 0, offset: String(i) },
        });
    });

    it('answers the history in [from, to), a page at a time', async () => {
      const from = new Date(T0).toISOString();
      const to = new Date(T0 + 3000).toISOString();
      const first = await app.inject({
        url: `/v1/vehicles/VEH-1/telemetry?from=${from}&to=${to}&limit=2`,
      });
      expect(first.statusCode).toBe(200);
      expect(first.json().items.map((r: { eventId: string }) => r.eventId)).toEqual(['e0', 'e1']);
      const next = await app.inject({
        url: `/v1/vehicles/VEH-1/telemetry?from=${from}&to=${to}&limit=2&cursor=${first.json().nextCursor}`,
      });
      expect(next.json()).toEqual({
        items: [expect.objectContaining({ eventId: 'e2' })],
        nextCursor: null,
      });
    });

    it('refuses a range that ends before it starts', async () => {
      const res = await app.inject({
        url: `/v1/vehicles/VEH-1/telemetry?from=${new Date(T0).toISOString()}&to=${new Date(T0 - 1).toISOString()}`,
      });
      expect(res.statusCode).toBe(400);
    });
  });

  describe('server-sent events', () => {
    beforeEach(() => {
      deps.feed.changes.push(
        { partition: 0, offset: 10, state: shipmentState({ shipmentId: 'SHP-a', version: 1 }) },
        { partition: 1, offset: 4, state: shipmentState({ shipmentId: 'SHP-b', version: 1 }) },
        { partition: 0, offset: 11, state: shipmentState({ shipmentId: 'SHP-a', version: 2 }) },
      );
    });

    function events(body: string): { id?: string; event?: string; data?: string }[] {
      return body
        .split('\n\n')
        .filter((block) => block.trim() !== '')
        .map((block) => {
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const at = line.indexOf(': ');
            if (at > 0) fields[line.slice(0, at)] = line.slice(at + 2);
          }
          return fields;
        });
    }

    it('streams changes with positions as ids, and resumes after Last-Event-ID', async () => {
      const res = await app.inject({
        url: '/v1/events',
        headers: { 'last-event-id': '0:-1,1:-1,2:-1' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      const all = events(res.body);
      expect(all[0]).toMatchObject({ event: 'ready', id: '0:-1,1:-1,2:-1' });
      const states = all.filter((e) => e.event === 'state');
      expect(states.map((e) => e.id)).toEqual(['0:10,1:-1,2:-1', '0:10,1:4,2:-1', '0:11,1:4,2:-1']);
      expect(JSON.parse(states[2]?.data ?? '{}')).toMatchObject({
        shipmentId: 'SHP-a',
        version: 2,
      });

      const resumed = await app.inject({
        url: '/v1/events',
        headers: { 'last-event-id': states[1]?.id ?? '' },
      });
      const again = events(resumed.body).filter((e) => e.event === 'state');
      expect(again.map((e) => e.id)).toEqual(['0:11,1:4,2:-1']);
    });

    it('streams one shipment’s changes only', async () => {
      const res = await app.inject({
        url: '/v1/shipments/SHP-b/events',
        headers: { 'last-event-id': '0:-1,1:-1,2:-1' },
      });
      const states = events(res.body).filter((e) => e.event === 'state');
      expect(states.map((e) => JSON.parse(e.data ?? '{}').shipmentId)).toEqual(['SHP-b']);
    });

    it('refuses a Last-Event-ID it did not send', async () => {
      const res = await app.inject({ url: '/v1/events', headers: { 'last-event-id': 'banana' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('INVALID_LAST_EVENT_ID');
    });
  });

  describe('POST /v1/telemetry', () => {
    const post = (body: unknown, key: string | null = KEYS.ingest, extra = {}) =>
      app.inject({
        method: 'POST',
        url: '/v1/telemetry',
        headers: key === null ? {} : { 'x-api-key': key },
        payload: body as object,
        ...extra,
      });

    it('accepts valid readings and rejects each invalid one with its reason (202)', async () => {
      deps.ingest.unencodable.add('e-refused');
      const res = await post({
        events: [
          telemetryReading({ eventId: 'e1' }),
          { ...telemetryReading({ eventId: 'e2' }), speed: 'fast' },
          { eventId: 'e3' },
          telemetryReading({ eventId: 'e-refused' }),
          { ...telemetryReading({ eventId: 'e5' }), extra: 1 },
        ],
      });
      expect(res.statusCode).toBe(202);
      const body = res.json();
      expect(body).toMatchObject({ accepted: 1, rejected: 4 });
      expect(
        body.rejections.map((r: { index: number; code: string }) => [r.index, r.code]),
      ).toEqual([
        [1, 'INVALID_EVENT'],
        [2, 'INVALID_EVENT'],
        [3, 'ENCODE_FAILED'],
        [4, 'INVALID_EVENT'],
      ]);
      expect(body.rejections[0].reason).toMatch(/^speed: /);
      expect(deps.ingest.sent.map((e) => e.eventId)).toEqual(['e1']);
    });

    it('fills in Avro defaults (units) a producer left out', async () => {
      const { speedUnit: _s, temperatureUnit: _t, ...reading } = telemetryReading();
      const res = await post({ events: [reading] });
      expect(res.json().accepted).toBe(1);
      expect(deps.ingest.sent[0]).toMatchObject({ speedUnit: 'KMH', temperatureUnit: 'CELSIUS' });
    });

    it('answers 401 without a key, 401 with an unknown key and 403 with the wrong scope', async () => {
      const body = { events: [telemetryReading()] };
      const none = await post(body, null);
      expect(none.statusCode).toBe(401);
      expect(none.json().code).toBe('API_KEY_REQUIRED');
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrong = await post(body, 'ck_not_a_key_of_ours_at_all_0000000000000');
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().code).toBe('INVALID_API_KEY');
      const reader = await post(body, KEYS.reader);
      expect(reader.statusCode).toBe(403);
      expect(reader.json().code).toBe('SCOPE_REQUIRED');
      const bearer = await app.inject({
        method: 'POST',
        url: '/v1/telemetry',
        headers: { authorization: `Bearer ${KEYS.admin}` },
        payload: body,
      });
      expect(bearer.statusCode).toBe(202);
    });

    it('rejects unknown body properties, non-JSON bodies and bodies over the limit', async () => {
      const unknown = await post({ events: [telemetryReading()], priority: 'high' });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().code).toBe('VALIDATION_FAILED');
      const text = await app.inject({
        method: 'POST',
        url: '/v1/telemetry',
        headers: { 'x-api-key': KEYS.ingest, 'content-type': 'text/plain' },
        payload: 'hello',
      });
      expect(text.statusCode).toBe(415);
      expect(text.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const broken = await app.inject({
        method: 'POST',
        url: '/v1/telemetry',
        headers: { 'x-api-key': KEYS.ingest, 'content-type': 'application/json' },
        payload: '{"events": [',
      });
      expect(broken.statusCode).toBe(400);
      expect(broken.json().code).toBe('INVALID_JSON');
      const small = await appWith(deps, { bodyLimitBytes: 1024 });
      try {
        const big = await small.inject({
          method: 'POST',
          url: '/v1/telemetry',
          headers: { 'x-api-key': KEYS.ingest },
          payload: { events: Array.from({ length: 20 }, () => telemetryReading()) },
        });
        expect(big.statusCode).toBe(413);
        expect(big.json().code).toBe('BODY_TOO_LARGE');
      } finally {
        await small.close();
      }
    });

    it('answers 503 with Retry-After when the producer buffer has no room, queueing nothing', async () => {
      deps.ingest.capacity = 2;
      const res = await post({
        events: [1, 2, 3].map((i) => telemetryReading({ eventId: `e${i}` })),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('BACKPRESSURE');
      expect(res.headers['retry-after']).toBe('2');
      expect(deps.ingest.sent).toEqual([]);
    });
  });

  describe('access and rate limits', () => {
    it('lets loopback read without a key and asks everyone else for one', async () => {
      deps.shipments.put(shipmentState());
      expect((await app.inject({ url: '/v1/shipments/SHP-000001' })).statusCode).toBe(200);
      const remote = await app.inject({ url: '/v1/shipments/SHP-000001', ...REMOTE });
      expect(remote.statusCode).toBe(401);
      const keyed = await app.inject({
        url: '/v1/shipments/SHP-000001',
        headers: { 'x-api-key': KEYS.reader },
        ...REMOTE,
      });
      expect(keyed.statusCode).toBe(200);
      const ingestOnly = await app.inject({
        url: '/v1/shipments/SHP-000001',
        headers: { 'x-api-key': KEYS.ingest },
      });
      expect(ingestOnly.statusCode).toBe(403);
    });

    it('closes reads to anonymous loopback clients when configured so', async () => {
      const closed = await appWith(deps, { anonymousReads: 'none' });
      try {
        expect((await closed.inject({ url: '/v1/shipments/SHP-1' })).statusCode).toBe(401);
        expect((await closed.inject({ url: '/health' })).statusCode).toBe(200);
      } finally {
        await closed.close();
      }
    });

    it('limits each key separately, with RateLimit headers and Retry-After on 429', async () => {
      const limited = await appWith(deps, {
        keys: parseApiKeys(
          `${apiKeyEntryText('a', ['read'], KEYS.reader)}:2;${apiKeyEntryText('b', ['read'], KEYS.admin)}`,
        ),
      });
      try {
        const as = (key: string) =>
          limited.inject({ url: '/v1/shipments/SHP-1', headers: { 'x-api-key': key } });
        const first = await as(KEYS.reader);
        expect(first.headers['ratelimit-limit']).toBe('2');
        expect(first.headers['ratelimit-remaining']).toBe('1');
        await as(KEYS.reader);
        const third = await as(KEYS.reader);
        expect(third.statusCode).toBe(429);
        expect(third.json().code).toBe('RATE_LIMITED');
        expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
        expect((await as(KEYS.admin)).statusCode).toBe(404);
      } finally {
        await limited.close();
      }
    });
  });

  describe('replays', () => {
    const as = (key: string) => ({ headers: { 'x-api-key': key } });

    it('starts a dry-run offset reset with scope replay, executes one only with admin', async () => {
      const request = {
        kind: 'reset-offsets',
        group: 'continuum-sink-redis-shipment-state',
        topics: [{ topic: 'shipment.state' }],
        to: '2026-12-01T00:00:00Z',
      };
      const dry = await app.inject({
        method: 'POST',
        url: '/v1/replays',
        payload: request,
        ...as(KEYS.replay),
      });
      expect(dry.statusCode).toBe(202);
      expect(dry.headers.location).toBe(`/v1/replays/${dry.json().id}`);
      const done = await deps.replays.settled(dry.json().id);
      expect(done?.status).toBe('succeeded');
      const got = await app.inject({ url: `/v1/replays/${dry.json().id}`, ...as(KEYS.replay) });
      expect(got.json()).toMatchObject({
        kind: 'reset-offsets',
        status: 'succeeded',
        requestedBy: 'replay',
        progress: { percent: 100 },
        result: { executed: false, rows: [{ current: 5, new: 2 }] },
      });
      const execute = { ...request, execute: true };
      const refused = await app.inject({
        method: 'POST',
        url: '/v1/replays',
        payload: execute,
        ...as(KEYS.replay),
      });
      expect(refused.statusCode).toBe(403);
      const allowed = await app.inject({
        method: 'POST',
        url: '/v1/replays',
        payload: execute,
        ...as(KEYS.admin),
      });
      expect(allowed.statusCode).toBe(202);
      const reader = await app.inject({
        method: 'POST',
        url: '/v1/replays',
        payload: request,
        ...as(KEYS.reader),
      });
      expect(reader.statusCode).toBe(403);
    });

    it('refuses a second rebuild while one runs (409), cancels it, and lists and forgets jobs', async () => {
      let release!: () => void;
      const blocked = inMemoryDeps(fakeRunners(new Promise<void>((r) => (release = r))));
      const jobs = await appWith(blocked);
      try {
        const first = await jobs.inject({
          method: 'POST',
          url: '/v1/replays',
          payload: { kind: 'rebuild-view' },
          ...as(KEYS.replay),
        });
        expect(first.statusCode).toBe(202);
        const second = await jobs.inject({
          method: 'POST',
          url: '/v1/replays',
          payload: { kind: 'rebuild-view' },
          ...as(KEYS.replay),
        });
        expect(second.statusCode).toBe(409);
        expect(second.json().code).toBe('REPLAY_CONFLICT');
        const list = await jobs.inject({ url: '/v1/replays', ...as(KEYS.replay) });
        expect(list.json().items).toHaveLength(1);
        const cancelled = await jobs.inject({
          method: 'DELETE',
          url: `/v1/replays/${first.json().id}`,
          ...as(KEYS.replay),
        });
        expect(cancelled.json().status).toBe('cancelled');
        const forgotten = await jobs.inject({
          method: 'DELETE',
          url: `/v1/replays/${first.json().id}`,
          ...as(KEYS.replay),
        });
        expect(forgotten.statusCode).toBe(200);
        const gone = await jobs.inject({
          url: `/v1/replays/${first.json().id}`,
          ...as(KEYS.replay),
        });
        expect(gone.statusCode).toBe(404);
        expect(gone.json().code).toBe('REPLAY_NOT_FOUND');
      } finally {
        release();
        await jobs.close();
      }
    });

    it('refuses a request of an unknown kind or with unknown properties', async () => {
      const unknownKind = await app.inject({
        method: 'POST',
        url: '/v1/replays',
        payload: { kind: 'rewind' },
        ...as(KEYS.replay),
      });
      expect(unknownKind.statusCode).toBe(400);
      const extra = await app.inject({
        method: 'POST',
        url: '/v1/replays',
        payload: { kind: 'rebuild-view', force: true },
        ...as(KEYS.replay),
      });
      expect(extra.statusCode).toBe(400);
    });
  });

  describe('operations', () => {
    it('answers /health, and /ready with each dependency and its latency', async () => {
      expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
      const ready = await app.inject({ url: '/ready', ...REMOTE });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().dependencies).toEqual([
        { name: 'redis', ok: true, latencyMs: expect.any(Number) },
        { name: 'kafka', ok: true, latencyMs: expect.any(Number) },
      ]);
    });

    it('answers /ready 503 naming the dependency that is down', async () => {
      const down = await appWith(
        inMemoryDeps(fakeRunners(), [
          { name: 'redis', check: () => Promise.resolve() },
          { name: 'mongodb', check: () => Promise.reject(new Error('connection refused')) },
        ]),
      );
      try {
        const res = await down.inject({ url: '/ready' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({
          ready: false,
          dependencies: [
            { name: 'redis', ok: true },
            { name: 'mongodb', ok: false, error: 'connection refused' },
          ],
        });
      } finally {
        await down.close();
      }
    });

    it('serves Prometheus metrics counting requests by route template', async () => {
      await app.inject({ url: '/v1/shipments/SHP-x' });
      const res = await app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toMatch(
        /continuum_http_requests_total\{method="GET",route="\/v1\/shipments\/:id",status="404"\} 1/,
      );
    });

    it('answers unknown routes with a problem', async () => {
      const res = await app.inject({ url: '/v2/nothing' });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('ROUTE_NOT_FOUND');
    });
  });

  describe('OpenAPI', () => {
    it('documents every route with its schemas and error responses at /docs/json', async () => {
      const res = await app.inject({ url: '/docs/json' });
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths).sort()).toEqual([
        '/health',
        '/metrics',
        '/ready',
        '/shipments/{id}/unified',
        '/v1/events',
        '/v1/ml/models',
        '/v1/ml/train',
        '/v1/ml/train/{requestId}',
        '/v1/pipeline/metrics',
        '/v1/pipeline/metrics/{query}',
        '/v1/replays',
        '/v1/replays/{id}',
        '/v1/shipments',
        '/v1/shipments/near',
        '/v1/shipments/{id}',
        '/v1/shipments/{id}/events',
        '/v1/telemetry',
        '/v1/vehicles/{id}/telemetry',
      ]);
      const lookup = doc.paths['/v1/shipments/{id}'].get;
      expect(Object.keys(lookup.responses)).toEqual(
        expect.arrayContaining(['200', '400', '401', '403', '404', '429', '500', '503']),
      );
      expect(lookup.responses['404'].content['application/problem+json']).toBeDefined();
      expect(doc.components.schemas.UnifiedShipmentState.properties.stateUpdatedAt).toBeDefined();
      expect(doc.components.securitySchemes.apiKey).toEqual({
        type: 'apiKey',
        in: 'header',
        name: 'x-api-key',
      });
      const html = await app.inject({ url: '/docs' });
      expect([200, 302]).toContain(html.statusCode);
    });
  });
});
