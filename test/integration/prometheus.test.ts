// Prometheus discovers a /metrics endpoint through file_sd (as it finds every Continuum process),
// scrapes it, and answers PromQL queries with the scraped value.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nodePath from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { waitFor } from '../../core/wait-for.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
// Explicit per test and hook: discovery (file_sd refresh) plus a scrape interval.
const TIMEOUT_MS = 90_000;

function requiredEnv(name: string, what: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: the integration harness must set it to ${what} (the Prometheus smoke test cannot run without it)`,
    );
  }
  return value;
}

interface VectorResponse {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
}

async function instantQuery(query: string): Promise<VectorResponse> {
  const url = `${config.prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`;
  const response = await fetch(url);
  const body = (await response.json()) as VectorResponse;
  if (!response.ok || body.status !== 'success') {
    throw new Error(
      `GET ${url} answered ${response.status}: ${body.error ?? JSON.stringify(body)}`,
    );
  }
  return body;
}

describe('Prometheus', () => {
  let server: Server | undefined;
  let targetFile: string | undefined;

  afterAll(async () => {
    if (targetFile) await rm(targetFile, { force: true });
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server?.close((err) => (err ? reject(err) : resolve())),
      );
    }
  }, TIMEOUT_MS);

  test(
    'scrapes a target found through file_sd and answers a query with its value',
    async () => {
      const targetsDir = requiredEnv(
        'CONTINUUM_TEST_PROMETHEUS_TARGETS_DIR',
        'the directory Prometheus watches through file_sd_configs',
      );
      const scrapeHost = requiredEnv(
        'CONTINUUM_TEST_SCRAPE_HOST',
        'the host name Prometheus uses to reach a server the test starts',
      );

      const registry = new Registry();
      const gauge = new Gauge({
        name: 'continuum_smoke_test_value',
        help: 'A random value the Prometheus integration test scrapes and queries back.',
        registers: [registry],
      });
      const value = randomBytes(4).readUInt32BE(0) / 1_000;
      gauge.set(value);

      server = createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;

      const smoke = uniqueName('smoke');
      targetFile = nodePath.join(targetsDir, `${smoke}.json`);
      const targets = [{ targets: [`${scrapeHost}:${port}`], labels: { smoke } }];
      // Written aside then renamed: Prometheus must never read a half-written file.
      const partial = `${targetFile}.partial`;
      await writeFile(partial, JSON.stringify(targets));
      await rename(partial, targetFile);

      const selector = `{smoke="${smoke}"}`;
      const scraped = await waitFor(
        async () => {
          const body = await instantQuery(`continuum_smoke_test_value${selector}`);
          return body.data?.result[0];
        },
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          description: `Prometheus to scrape ${scrapeHost}:${port}`,
        },
      );
      expect(scraped.metric.smoke).toBe(smoke);
      expect(Number(scraped.value[1])).toBe(value);

      const up = await instantQuery(`up${selector}`);
      expect(up.data?.result.map((r) => r.value[1])).toEqual(['1']);
    },
    TIMEOUT_MS,
  );
});
