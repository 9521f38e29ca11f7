// Request counters and durations by route template (not raw URL, so ids do not explode the
// label set), on the registry /metrics serves; the Grafana dashboard charts these.
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registeredOnce } from '../../core/metrics.ts';

export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = registeredOnce(
    registry,
    'continuum_http_requests_total',
    () =>
      new Counter({
        name: 'continuum_http_requests_total',
        help: 'HTTP requests served by the API',
        labelNames,
        registers: [registry],
      }),
  );
  const durations = registeredOnce(
    registry,
    'continuum_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'continuum_http_request_duration_seconds',
        help: 'Time to answer an HTTP request (until the response ended)',
        labelNames,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
  );
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    durations.observe(labels, reply.elapsedTime / 1000);
  });
}
