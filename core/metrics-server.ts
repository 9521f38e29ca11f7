// Every process serves its Prometheus metrics (prom-client) on /metrics, plus /healthz (the
// process answers) and, where the process says what it waits for, /ready: 200 once it does its
// work, 503 while it does not (starting, or retrying a dependency), with a JSON body saying why.
// Compose's healthchecks and `continuum demo` wait on it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, register as defaultRegistry, type Registry } from 'prom-client';

/** What /ready answers: whether the process does its work now, and what it reports of it. */
export interface Readiness {
  ready: boolean;
  /** Shown in /ready's body: what it waits for, or where it stands. */
  detail?: Record<string, unknown>;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

let defaultsCollected = false;

export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry?: Registry;
  /**
   * What /metrics serves when it is more than `registry`: the default registry's metrics
   * aggregated with those of worker threads (`continuum streams`), collected per scrape.
   */
  collect?: (registry: Registry) => Promise<Registry>;
  /** Answers /ready (without: 404, the process has no readiness to report). */
  readiness?: () => Readiness | Promise<Readiness>;
}): Promise<MetricsServer> {
  const registry = options.registry ?? defaultRegistry;
  if (registry === defaultRegistry && !defaultsCollected) {
    collectDefaultMetrics({ register: registry });
    defaultsCollected = true;
  }
  const collect = options.collect ?? ((r: Registry) => Promise.resolve(r));
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      collect(registry)
        .then(async (served) => {
          const body = await served.metrics();
          res.writeHead(200, { 'content-type': served.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        });
      return;
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (req.url === '/ready' && options.readiness) {
      Promise.resolve()
        .then(options.readiness)
        .then(({ ready, detail }) => {
          res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: ready ? 'ready' : 'not ready', ...detail }));
        })
        .catch((err: unknown) => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'not ready', error: String(err) }));
        });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
