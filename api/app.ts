// buildApp(deps, options): the Fastify application, with no I/O of its own — everything it
// talks to comes in as ports (api/ports.ts), so tests drive it through inject() with fakes and
// api/server.ts runs it on the real stack.
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import type { ApiKeyEntry } from '../core/api-keys.ts';
import type { Logger } from '../core/logger.ts';
import { registerApiKeyAuth } from './plugins/api-key-auth.ts';
import { registerHttpMetrics } from './plugins/http-metrics.ts';
import { registerOpenApi } from './plugins/openapi.ts';
import { problem, registerProblemDetails, sendProblem } from './plugins/problem-details.ts';
import { registerRateLimits } from './plugins/rate-limits.ts';
import { registerUiStatic } from './plugins/ui-static.ts';
import type { ApiDeps } from './ports.ts';
import { stateEventsRoutes } from './routes/events/state-events-routes.ts';
import { healthRoutes } from './routes/health/health-routes.ts';
import { mlRoutes } from './routes/ml/ml-routes.ts';
import { pipelineMetricsRoutes } from './routes/pipeline/pipeline-metrics-routes.ts';
import { replayRoutes } from './routes/replays/replay-routes.ts';
import { shipmentRoutes } from './routes/shipments/shipment-routes.ts';
import { telemetryIngestRoutes } from './routes/telemetry/telemetry-ingest-routes.ts';
import { telemetryHistoryRoutes } from './routes/vehicles/telemetry-history-routes.ts';

export interface ApiOptions {
  keys: readonly ApiKeyEntry[];
  anonymousReads: 'loopback' | 'none';
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  /** Where /metrics reads from and request metrics go. */
  metricsRegistry: Registry;
  /** pino logger for request logs; false for none (tests). */
  logger: Logger | false;
  /** Event-loop delay (ms) above which requests are refused with 503; 0 = never. */
  maxEventLoopDelayMs: number;
  sseHeartbeatMs: number;
  probeTimeoutMs: number;
  /** The built dashboard (ui/dist) to serve at `/`; none when absent (inject tests). */
  uiRoot?: string;
}

export const API_DEFAULTS: Omit<ApiOptions, 'keys' | 'metricsRegistry' | 'logger'> = {
  anonymousReads: 'loopback',
  rateLimitPerMinute: 1_200,
  bodyLimitBytes: 1_048_576,
  maxEventLoopDelayMs: 1_000,
  sseHeartbeatMs: 15_000,
  probeTimeoutMs: 2_000,
};

export type ContinuumApp = FastifyInstance;

export async function buildApp(deps: ApiDeps, options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance:
      options.logger === false
        ? undefined
        : // Request logs are info lines per request; the access log is /metrics, so warn and up.
          (options.logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger),
    logger: options.logger === false ? false : undefined,
    bodyLimit: options.bodyLimitBytes,
    // Unknown query properties are refused by the strict schemas; a repeated one is an array.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  // Bodies are JSON only: anything else is a 415, not a string the schema then refuses.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  registerProblemDetails(app);
  registerApiKeyAuth(app, {
    keys: options.keys,
    anonymousReads: options.anonymousReads,
    rateLimitPerMinute: options.rateLimitPerMinute,
  });
  await registerRateLimits(app);
  registerHttpMetrics(app, options.metricsRegistry);
  if (options.maxEventLoopDelayMs > 0)
    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      pressureHandler: (request, reply, type, value) => {
        void reply.header('retry-after', '1');
        void sendProblem(
          reply,
          problem(request, 503, 'OVERLOADED', `the server is overloaded (${type}: ${value})`),
        );
      },
    });
  await registerOpenApi(app);

  await app.register(healthRoutes, {
    deps,
    registry: options.metricsRegistry,
    probeTimeoutMs: options.probeTimeoutMs,
  });
  await app.register(shipmentRoutes, { deps });
  await app.register(telemetryHistoryRoutes, { deps });
  await app.register(stateEventsRoutes, { deps, heartbeatMs: options.sseHeartbeatMs });
  await app.register(telemetryIngestRoutes, { deps });
  await app.register(replayRoutes, { deps });
  await app.register(mlRoutes, { deps });
  // The dashboard (issue 12): its pipeline charts' data, and the UI itself at `/`.
  await app.register(pipelineMetricsRoutes, { deps });
  if (options.uiRoot !== undefined) await registerUiStatic(app, { root: options.uiRoot });
  return app;
}
