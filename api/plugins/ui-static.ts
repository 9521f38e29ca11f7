// The dashboard (ui/, built by Vite into ui/dist) at `/`: its files are public and outside the
// rate limits (they hold no data; what they fetch from the API is checked as any other call).
// Without a build, `/` says how to make one instead of answering 404.
import { existsSync } from 'node:fs';
import nodePath from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export interface UiStaticOptions {
  /** The built UI (index.html and assets/). */
  root: string;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Continuum</title></head>
<body><main><h1>Continuum</h1><p>The dashboard is not built. Run <code>npm run build:ui</code> (npm ci does it) and restart the API.</p>
<p>The API's documentation is at <a href="/docs">/docs</a>.</p></main></body></html>`;

export async function registerUiStatic(
  app: FastifyInstance,
  options: UiStaticOptions,
): Promise<void> {
  await app.register(async (ui) => {
    // Every route of this plugin: public, not rate limited, not in the OpenAPI document.
    ui.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public', rateLimit: false };
      route.schema = { ...route.schema, hide: true };
    });
    if (!existsSync(nodePath.join(options.root, 'index.html'))) {
      ui.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
      return;
    }
    // Vite names assets by their content's hash: they never change under their name; index.html
    // must be asked for again, so a new build is seen at once.
    ui.addHook('onSend', async (request, reply) => {
      void reply.header(
        'cache-control',
        request.url.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    });
    await ui.register(fastifyStatic, {
      root: options.root,
      prefix: '/',
      // One route per file found at start (a build is fixed), not a catch-all that would answer
      // the API's unknown paths.
      wildcard: false,
      index: 'index.html',
      // Caching: the onSend hook above, per kind of file.
      cacheControl: false,
    });
  });
}
