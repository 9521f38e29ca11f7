// The dashboard's files at `/`: public, cached by kind, hidden from the OpenAPI document, and
// never in the way of the API's own 404s.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { ReplayRunners } from '../../replay/replay-jobs.ts';
import { API_DEFAULTS, buildApp } from '../app.ts';
import { inMemoryDeps } from '../in-memory-ports.ts';

const REMOTE = { remoteAddress: '10.1.2.3' };

async function appServing(uiRoot: string): Promise<FastifyInstance> {
  const app = await buildApp(inMemoryDeps({} as ReplayRunners), {
    ...API_DEFAULTS,
    keys: [],
    metricsRegistry: new Registry(),
    logger: false,
    maxEventLoopDelayMs: 0,
    uiRoot,
  });
  await app.ready();
  return app;
}

describe('the UI at /', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-ui-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('serves the build to anyone, index.html uncached and hashed assets immutable', async () => {
    await mkdir(nodePath.join(root, 'assets'));
    await writeFile(nodePath.join(root, 'index.html'), '<!doctype html><title>Continuum</title>');
    await writeFile(nodePath.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    const app = await appServing(root);
    try {
      const index = await app.inject({ url: '/', ...REMOTE });
      expect(index.statusCode).toBe(200);
      expect(index.headers['content-type']).toMatch(/^text\/html/);
      expect(index.headers['cache-control']).toBe('no-cache');
      expect(index.body).toContain('<title>Continuum</title>');
      const asset = await app.inject({ url: '/assets/index-abc123.js', ...REMOTE });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      // Data routes still need a key from that caller, and unknown paths stay API 404s.
      expect((await app.inject({ url: '/v1/shipments', ...REMOTE })).statusCode).toBe(401);
      const missing = await app.inject({ url: '/nope' });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      const paths = Object.keys(
        (await app.inject({ url: '/docs/json' })).json<{ paths: Record<string, unknown> }>().paths,
      );
      expect(paths.filter((p) => p === '/' || p.startsWith('/assets'))).toEqual([]);
      expect(paths).toContain('/v1/pipeline/metrics/{query}');
    } finally {
      await app.close();
    }
  });

  it('says how to build the UI when there is no build', async () => {
    const app = await appServing(nodePath.join(root, 'missing'));
    try {
      const res = await app.inject({ url: '/', ...REMOTE });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('npm run build:ui');
    } finally {
      await app.close();
    }
  });
});
