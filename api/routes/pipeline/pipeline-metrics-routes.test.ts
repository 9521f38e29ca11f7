// The pipeline page's chart data through buildApp and inject(): named queries only, on a step
// grid, within the bounds, shared between identical polls, and errors as problems.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call --
   inject() answers are untyped JSON; the expectations are what checks their shape. */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { PIPELINE_QUERIES, PIPELINE_QUERY_LIST } from '../../../core/pipeline-queries.ts';
import { ApiError } from '../../api-error.ts';
import { API_DEFAULTS, buildApp } from '../../app.ts';
import { inMemoryDeps, type InMemoryDeps } from '../../in-memory-ports.ts';
import type { ReplayRunners } from '../../../replay/replay-jobs.ts';

const noRunners = {} as ReplayRunners;

describe('GET /v1/pipeline/metrics', () => {
  let deps: InMemoryDeps;
  let app: FastifyInstance;

  beforeEach(async () => {
    deps = inMemoryDeps(noRunners);
    app = await buildApp(deps, {
      ...API_DEFAULTS,
      keys: [],
      metricsRegistry: new Registry(),
      logger: false,
      maxEventLoopDelayMs: 0,
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
  });

  it('lists the named queries, with the PromQL each runs', async () => {
    const res = await app.inject({ url: '/v1/pipeline/metrics' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ queries: { id: string; expr: string; unit: string }[] }>();
    expect(body.queries.map((q) => q.id)).toEqual(PIPELINE_QUERY_LIST.map((q) => q.id));
    expect(body.queries.find((q) => q.id === 'consumer-lag')).toMatchObject({
      expr: PIPELINE_QUERIES.consumerLag.expr,
      unit: 'records',
    });
  });

  it('answers a query over the last minutes on a step grid, each series named by its legend', async () => {
    deps.metricsHistory.series = [
      { consumergroup: 'continuum-shipment-state' },
      { consumergroup: 'continuum-sink-redis' },
    ];
    const before = Math.floor(Date.now() / 1000);
    const res = await app.inject({
      url: '/v1/pipeline/metrics/consumer-lag?minutes=10&stepSeconds=30',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(deps.metricsHistory.asked).toEqual([
      {
        expr: PIPELINE_QUERIES.consumerLag.expr,
        start: body.start,
        end: body.end,
        stepSeconds: 30,
      },
    ]);
    expect(body.end % 30).toBe(0);
    expect(body.end).toBeGreaterThan(before - 31);
    expect(body.end - body.start).toBe(600);
    expect(body.timestamps).toHaveLength(21);
    expect(body.timestamps[0]).toBe(body.start);
    expect(body.series.map((s: { name: string }) => s.name)).toEqual([
      'continuum-shipment-state',
      'continuum-sink-redis',
    ]);
    expect(body.series[0].values).toHaveLength(21);
    expect(body.query).toMatchObject({ id: 'consumer-lag', unit: 'records' });
  });

  it('asks Prometheus once for identical polls within 5 s', async () => {
    for (let i = 0; i < 3; i++)
      expect((await app.inject({ url: '/v1/pipeline/metrics/throughput' })).statusCode).toBe(200);
    await app.inject({ url: '/v1/pipeline/metrics/throughput?minutes=30' });
    expect(deps.metricsHistory.asked.map((a) => a.expr)).toEqual([
      PIPELINE_QUERIES.throughput.expr,
      PIPELINE_QUERIES.throughput.expr,
    ]);
  });

  it.each([
    ['minutes=361', 'minutes'],
    ['stepSeconds=4', 'stepSeconds'],
    ['minutes=360&stepSeconds=5', 'stepSeconds'],
    ['step=5', ''],
  ])('refuses %s (beyond the bounds) with 400', async (query, path) => {
    const res = await app.inject({ url: `/v1/pipeline/metrics/consumer-lag?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    if (path) expect(JSON.stringify(res.json().errors)).toContain(path);
    expect(deps.metricsHistory.asked).toEqual([]);
  });

  it('answers 400 for a query it does not know, naming those it does', async () => {
    const res = await app.inject({ url: '/v1/pipeline/metrics/up' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(JSON.stringify(res.json())).toContain('consumer-lag');
    expect(deps.metricsHistory.asked).toEqual([]);
  });

  it('answers 503 when Prometheus does not, and asks again on the next poll', async () => {
    deps.metricsHistory.failure = new ApiError(
      503,
      'DEPENDENCY_UNAVAILABLE',
      'Prometheus did not answer',
      {
        headers: { 'retry-after': '5' },
      },
    );
    const res = await app.inject({ url: '/v1/pipeline/metrics/dead-letters' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    deps.metricsHistory.failure = undefined;
    expect((await app.inject({ url: '/v1/pipeline/metrics/dead-letters' })).statusCode).toBe(200);
  });

  it('needs scope read: anonymous callers off loopback get 401', async () => {
    const res = await app.inject({ url: '/v1/pipeline/metrics', remoteAddress: '10.1.2.3' });
    expect(res.statusCode).toBe(401);
  });
});
