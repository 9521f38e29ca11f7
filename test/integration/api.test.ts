// The API on the real stack (Kafka, registry, Redis, PostgreSQL, MongoDB) over HTTP on loopback:
// states the sinks wrote are found (Redis, then PostgreSQL), listed and mapped; the telemetry
// history pages; an SSE client receives a state committed after it connected, and resumes from
// its Last-Event-ID; ingested telemetry lands in Kafka as Avro; a view rebuild runs as a replay.
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { shipmentState, T0, telemetryReading } from '../../api/fixtures.ts';
import { createKafka, waitForMessages } from '../support/kafka.ts';
import { ApiUnderTest, TEST_KEYS } from '../support/api/api-under-test.ts';

const config = loadConfig(process.env);
const log = createLogger('warn');

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads server-sent events from a fetch response until `until` holds of what arrived. */
async function readEvents(
  url: string,
  headers: Record<string, string>,
  until: (events: SseEvent[]) => boolean,
  onOpen: () => Promise<void> = () => Promise.resolve(),
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let text = '';
  let opened = false;
  const timer = setTimeout(() => controller.abort(), 30_000);
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const fields: SseEvent = {};
        for (const line of block.split('\n')) {
          const at = line.indexOf(': ');
          if (at > 0) (fields as Record<string, string>)[line.slice(0, at)] = line.slice(at + 2);
        }
        if (fields.event) events.push(fields);
        if (fields.event === 'ready' && !opened) {
          opened = true;
          await onOpen();
        }
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

describe('the API on the real stack', () => {
  let kafka: Kafka;
  let under: ApiUnderTest;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${under.url}${path}`, { headers });

  beforeAll(async () => {
    kafka = createKafka(config, 'api');
    under = await ApiUnderTest.start(config, kafka, log);
  });

  afterAll(async () => {
    await under.stop();
  });

  it('finds, lists and maps the states the sinks wrote, with freshness', async () => {
    await under.putStates([
      shipmentState({ shipmentId: 'SHP-A', customerId: 'CUS-7', stateUpdatedAt: T0 }),
      shipmentState({
        shipmentId: 'SHP-B',
        customerId: 'CUS-7',
        lat: 48.137,
        lon: 11.575,
        stateUpdatedAt: T0 + 1,
      }),
      shipmentState({ shipmentId: 'SHP-C', status: 'DELIVERED', stateUpdatedAt: T0 + 2 }),
    ]);
    const lookup = await get('/v1/shipments/SHP-A');
    expect(lookup.status).toBe(200);
    const body = (await lookup.json()) as { state: unknown; freshness: Record<string, unknown> };
    expect(body.state).toEqual(
      shipmentState({ shipmentId: 'SHP-A', customerId: 'CUS-7', stateUpdatedAt: T0 }),
    );
    expect(body.freshness).toMatchObject({ source: 'redis', newestInputEventTime: T0 });

    // PostgreSQL answers when Redis has lost the shipment.
    const redisKey = `${under.keys.hashPrefix}SHP-B`;
    const { Redis } = await import('ioredis');
    const redis = new Redis(config.redis.url);
    await redis.del(redisKey);
    await redis.quit();
    const fallback = (await (await get('/v1/shipments/SHP-B')).json()) as {
      freshness: { source: string };
    };
    expect(fallback.freshness.source).toBe('postgres');

    const page1 = (await (await get('/v1/shipments?customerId=CUS-7&limit=1')).json()) as {
      items: { shipmentId: string }[];
      nextCursor: string;
    };
    expect(page1.items.map((s) => s.shipmentId)).toEqual(['SHP-A']);
    const page2 = (await (
      await get(`/v1/shipments?customerId=CUS-7&limit=1&cursor=${page1.nextCursor}`)
    ).json()) as { items: { shipmentId: string }[]; nextCursor: string | null };
    expect(page2).toEqual({
      items: [expect.objectContaining({ shipmentId: 'SHP-B' })],
      nextCursor: null,
    });

    const near = (await (
      await get('/v1/shipments/near?lat=52.52&lon=13.405&radiusKm=10')
    ).json()) as {
      items: { state: { shipmentId: string } }[];
    };
    expect(near.items.map((n) => n.state.shipmentId)).toEqual(['SHP-A']);
    expect((await get('/v1/shipments/SHP-NONE')).status).toBe(404);
  });

  it('pages through a vehicle’s telemetry history', async () => {
    await under.putTelemetry(
      [0, 1, 2].map((i) =>
        telemetryReading({ eventId: `ev-${i}`, vehicleId: 'VEH-H', eventTime: T0 + i * 1000 }),
      ),
    );
    const from = new Date(T0).toISOString();
    const first = (await (
      await get(`/v1/vehicles/VEH-H/telemetry?from=${from}&limit=2`)
    ).json()) as {
      items: { eventId: string; speedKmh: number }[];
      nextCursor: string;
    };
    expect(first.items.map((r) => r.eventId)).toEqual(['ev-0', 'ev-1']);
    expect(first.items[0]?.speedKmh).toBe(42.5);
    const second = (await (
      await get(`/v1/vehicles/VEH-H/telemetry?from=${from}&limit=2&cursor=${first.nextCursor}`)
    ).json()) as { items: { eventId: string }[]; nextCursor: string | null };
    expect(second.items.map((r) => r.eventId)).toEqual(['ev-2']);
    expect(second.nextCursor).toBeNull();
  });

  it('answers every reading once after a replay cut at other flush boundaries', async () => {
    // Out of event-time order on purpose: buckets then overlap in time.
    const times = [
      5, 1, 9, 3, 7, 2, 8, 0, 6, 4, 11, 10, 13, 12, 14, 16, 15, 18, 17, 19, 21, 20, 22,
    ];
    const readings = times.map((t, i) =>
      telemetryReading({
        eventId: `rp-${String(i).padStart(2, '0')}`,
        vehicleId: 'VEH-R',
        eventTime: T0 + t * 1000,
      }),
    );
    await under.putTelemetry(readings, { flushEvery: 5 });
    await under.putTelemetry(readings, { flushEvery: 7 }); // the replay: other buckets
    const expected = [...readings]
      .sort((a, b) => a.eventTime - b.eventTime || (a.eventId < b.eventId ? -1 : 1))
      .map((r) => r.eventId);

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await get(`/v1/vehicles/VEH-R/telemetry?limit=4${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as { items: { eventId: string }[]; nextCursor: string | null };
      paged.push(...page.items.map((r) => r.eventId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(expected);

    const from = new Date(T0 + 3_000).toISOString();
    const to = new Date(T0 + 8_000).toISOString();
    const window = (await (
      await get(`/v1/vehicles/VEH-R/telemetry?from=${from}&to=${to}&limit=100`)
    ).json()) as { items: { eventId: string }[] };
    expect(window.items.map((r) => r.eventId)).toEqual(expected.slice(3, 8));
  });

  it('streams a state committed after the client connected, and resumes after Last-Event-ID', async () => {
    const change = (v: number) =>
      shipmentState({ shipmentId: 'SHP-SSE', version: 10 + v, stateUpdatedAt: T0 + 100 + v });
    const first = await readEvents(
      `${under.url}/v1/shipments/SHP-SSE/events`,
      {},
      (events) => events.some((e) => e.event === 'state'),
      () => under.putStates([change(1)], false),
    );
    const state = first.find((e) => e.event === 'state');
    expect(JSON.parse(state?.data ?? '{}')).toEqual(change(1));
    // Two more while nobody listens; a reconnect from the last id gets exactly those.
    await under.putStates([change(2), change(3)], false);
    const resumed = await readEvents(
      `${under.url}/v1/shipments/SHP-SSE/events`,
      { 'last-event-id': state?.id ?? '' },
      (events) => events.filter((e) => e.event === 'state').length >= 2,
    );
    expect(
      resumed
        .filter((e) => e.event === 'state')
        .map((e) => (JSON.parse(e.data ?? '{}') as { version: number }).version),
    ).toEqual([12, 13]);
  });

  it('ingests telemetry into Kafka as Avro through the SDK, rejecting bad items', async () => {
    const res = await fetch(`${under.url}/v1/telemetry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TEST_KEYS.ingest },
      body: JSON.stringify({
        events: [telemetryReading({ eventId: 'ingest-1', vehicleId: 'VEH-I' }), { eventId: 'bad' }],
      }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 1, rejected: 1 });
    const [message] = await waitForMessages(kafka, under.telemetryTopic, { count: 1 });
    expect(message?.key?.toString()).toBe('VEH-I');
    expect(await under.decode(message?.value as Buffer)).toEqual(
      telemetryReading({ eventId: 'ingest-1', vehicleId: 'VEH-I' }),
    );
  });

  it('runs a view rebuild as a replay and reports its progress until it succeeds', async () => {
    const headers = { 'content-type': 'application/json', 'x-api-key': TEST_KEYS.replay };
    const started = await fetch(`${under.url}/v1/replays`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ kind: 'rebuild-view' }),
    });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const done = await waitFor(
      async () => {
        const job = (await (await get(`/v1/replays/${id}`, headers)).json()) as {
          status: string;
          progress: { percent: number };
          result: { records: number } | null;
        };
        return job.status === 'running' ? undefined : job;
      },
      { timeoutMs: 60_000, description: 'the rebuild to end' },
    );
    expect(done).toMatchObject({ status: 'succeeded', progress: { percent: 100 } });
    expect(done.result?.records).toBeGreaterThanOrEqual(6);
    // SHP-SSE was only produced, never applied: the rebuild put it in the view.
    const rebuilt = (await (await get('/v1/shipments/SHP-SSE')).json()) as {
      state: { version: number };
    };
    expect(rebuilt.state.version).toBe(13);
  });
});
