// Runs the API on the platform: real ports, listen, and a graceful stop (close-with-grace):
// SSE streams end, in-flight requests finish, then Kafka, Redis, PostgreSQL and MongoDB close.
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import nodePath from 'node:path';
import { repoRoot } from '../core/paths.ts';
import { API_DEFAULTS, buildApp } from './app.ts';
import {
  createPlatformDeps,
  platformDepsOptions,
  type PlatformDeps,
  type PlatformDepsOptions,
} from './platform-deps.ts';

/** The dashboard as `npm run build:ui` (run by npm ci) builds it. */
export const UI_DIST = nodePath.join(repoRoot, 'ui', 'dist');

export interface RunningApi {
  app: FastifyInstance;
  platform: PlatformDeps;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(
  config: Config,
  log: Logger,
  overrides: { host?: string; port?: number; deps?: Partial<PlatformDepsOptions> } = {},
): Promise<RunningApi> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const platform = await createPlatformDeps(config, log, {
    ...platformDepsOptions(config, registry),
    ...overrides.deps,
    metricsRegistry: registry,
  });
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp(platform.deps, {
      ...API_DEFAULTS,
      keys: config.api.keys,
      anonymousReads: config.api.anonymousReads,
      rateLimitPerMinute: config.api.rateLimitPerMinute,
      bodyLimitBytes: config.api.bodyLimitBytes,
      metricsRegistry: registry,
      logger: log,
      uiRoot: UI_DIST,
    });
    app.addHook('preClose', () => platform.stopStreams());
    await platform.start();
    const address = await app.listen({
      host: overrides.host ?? config.api.host,
      port: overrides.port ?? config.api.port,
    });
    const running = app;
    return {
      app: running,
      platform,
      url: address,
      close: async () => {
        await running.close();
        await platform.close();
      },
    };
  } catch (err) {
    await app?.close();
    await platform.close();
    throw err;
  }
}

/** `continuum api`: serves until SIGTERM/SIGINT, then closes everything within the grace. */
export async function runApiServer(config: Config, log: Logger): Promise<void> {
  const api = await startApiServer(config, log);
  log.info(
    { url: api.url, docs: `${api.url}/docs`, keys: config.api.keys.map((k) => k.name) },
    'API listening',
  );
  await new Promise<void>((resolve) => {
    closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
      if (err) log.error({ err }, 'API stopping after an error');
      else log.info({ signal }, 'API stopping');
      await api.close();
      resolve();
    });
  });
}
