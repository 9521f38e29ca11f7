// /v1/ml through inject(), on the in-memory trainer: scope ml to train, idempotent per request
// id, a down trainer is a 503 problem, the model list for readers, and the OpenAPI document.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument --
   inject() answers are untyped JSON; the expectations are what checks their shape. */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { apiKeyEntryText, parseApiKeys } from '../../../core/api-keys.ts';
import { API_DEFAULTS, buildApp } from '../../app.ts';
import { inMemoryDeps, type InMemoryDeps } from '../../in-memory-ports.ts';
import { MlUnavailableError } from '../../ports.ts';

const KEYS = {
  ml: 'ck_mltrain_0123456789abcdefghijklmnopqrstuvwxyzAB',
  reader: 'ck_readers_0123456789abcdefghijklmnopqrstuvwxyzAB',
  admin: 'ck_adminss_0123456789abcdefghijklmnopqrstuvwxyzAB',
};

async function app(): Promise<{ app: FastifyInstance; deps: InMemoryDeps }> {
  const deps = inMemoryDeps({
    resetOffsets: () => Promise.reject(new Error('unused')),
    rebuildView: () => Promise.reject(new Error('unused')),
    redriveDeadLetters: () => Promise.reject(new Error('unused')),
  });
  const built = await buildApp(deps, {
    ...API_DEFAULTS,
    keys: parseApiKeys(
      [
        apiKeyEntryText('trainer', ['ml'], KEYS.ml),
        apiKeyEntryText('reader', ['read'], KEYS.reader),
        apiKeyEntryText('admin', ['admin'], KEYS.admin),
      ].join(';'),
    ),
    metricsRegistry: new Registry(),
    logger: false,
    maxEventLoopDelayMs: 0,
  });
  await built.ready();
  return { app: built, deps };
}

const train = (a: FastifyInstance, key: string | undefined, payload: object) =>
  a.inject({
    method: 'POST',
    url: '/v1/ml/train',
    headers: key ? { 'x-api-key': key } : {},
    payload,
    remoteAddress: '10.0.0.9',
  });

describe('/v1/ml', () => {
  it('POST /v1/ml/train needs scope ml (or admin)', async () => {
    const { app: a } = await app();
    expect((await train(a, undefined, { requestId: 'r1' })).statusCode).toBe(401);
    const refused = await train(a, KEYS.reader, { requestId: 'r1' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('SCOPE_REQUIRED');
    expect((await train(a, KEYS.admin, { requestId: 'r2' })).statusCode).toBe(202);
    await a.close();
  });

  it('is idempotent per request id: 202 with a new job, then 200 with the same job', async () => {
    const { app: a, deps } = await app();
    const first = await train(a, KEYS.ml, { requestId: 'nightly-2026-12-11' });
    expect(first.statusCode).toBe(202);
    expect(first.headers.location).toBe('/v1/ml/train/nightly-2026-12-11');
    expect(first.json()).toMatchObject({
      requestId: 'nightly-2026-12-11',
      requestedBy: 'trainer',
      status: 'queued',
    });
    const again = await train(a, KEYS.ml, { requestId: 'nightly-2026-12-11' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(deps.ml.jobs.size).toBe(1);
    const followed = await a.inject({
      url: '/v1/ml/train/nightly-2026-12-11',
      headers: { 'x-api-key': KEYS.ml },
    });
    expect(followed.json().status).toBe('queued');
    const unknown = await a.inject({ url: '/v1/ml/train/nope', headers: { 'x-api-key': KEYS.ml } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('TRAINING_NOT_FOUND');
    await a.close();
  });

  it('makes up a request id when none is given, and refuses ids that are not ids', async () => {
    const { app: a } = await app();
    const made = await train(a, KEYS.ml, {});
    expect(made.statusCode).toBe(202);
    expect(made.json().requestId).toMatch(/^[0-9a-f-]{36}$/);
    for (const requestId of ['', 'has space', '-leading-dash', 'x'.repeat(129)]) {
      const bad = await train(a, KEYS.ml, { requestId });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('VALIDATION_FAILED');
    }
    expect((await train(a, KEYS.ml, { requestId: 'a', extra: 1 })).statusCode).toBe(400);
    await a.close();
  });

  it('answers 503 ML_UNAVAILABLE with Retry-After when the trainer is down', async () => {
    const { app: a, deps } = await app();
    deps.ml.down = new MlUnavailableError(
      'the ETA trainer at http://127.0.0.1:9466 did not answer',
    );
    const down = await train(a, KEYS.ml, { requestId: 'r' });
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toContain('application/problem+json');
    expect(down.headers['retry-after']).toBe('5');
    expect(down.json().code).toBe('ML_UNAVAILABLE');
    const models = await a.inject({ url: '/v1/ml/models', headers: { 'x-api-key': KEYS.reader } });
    expect(models.statusCode).toBe(503);
    await a.close();
  });

  it('GET /v1/ml/models lists versions newest first for readers, with the champion', async () => {
    const { app: a, deps } = await app();
    const version = (v: number, champion: boolean) => ({
      version: v,
      runId: `run-${v}`,
      createdAt: 1_796_460_000_000 + v,
      status: 'READY',
      algorithm: 'gradient-boosted-trees',
      champion,
      metrics: { mae: 10 - v, interval_coverage: 0.9 },
      description: 'promoted',
    });
    deps.ml.view = {
      modelName: 'eta',
      champion: 2,
      versions: [version(3, false), version(2, true), version(1, false)],
    };
    const listed = await a.inject({
      url: '/v1/ml/models?limit=2',
      headers: { 'x-api-key': KEYS.reader },
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({
      modelName: 'eta',
      champion: 2,
      versions: [version(3, false), version(2, true)],
    });
    expect(
      (await a.inject({ url: '/v1/ml/models?limit=0', headers: { 'x-api-key': KEYS.reader } }))
        .statusCode,
    ).toBe(400);
    await a.close();
  });

  it('documents the routes in the OpenAPI document', async () => {
    const { app: a } = await app();
    const doc = (await a.inject({ url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/ml/train', '/v1/ml/train/{requestId}', '/v1/ml/models']),
    );
    expect(Object.keys(doc.paths['/v1/ml/train'].post.responses)).toEqual(
      expect.arrayContaining(['200', '202', '401', '403', '503']),
    );
    await a.close();
  });
});
