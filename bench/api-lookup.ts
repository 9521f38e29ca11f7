// GET /v1/shipments/:id through the whole API (auth, rate limit, validation, Redis read,
// freshness, zod serialization) beside a bare Fastify route that reads the same Redis hash and
// sends it as JSON, same process, same run, on loopback: requests/s and p99 with autocannon.
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { apiKeyEntryText, parseApiKeys } from '../core/api-keys.ts';
import { startApiServer } from '../api/server.ts';
import { shipmentState } from '../api/fixtures.ts';
import {
  encodeShipmentHash,
  shipmentHashKey,
  shipmentStateKeys,
} from '../connectors/sinks/redis/shipment-state-hash.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { withBenchTopics } from './bench-topics.ts';

async function load(url: string, seconds: number, headers: Record<string, string>) {
  const result = await autocannon({ url, connections: 20, duration: seconds, headers });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

export const apiLookupBenchmark: Benchmark = {
  name: 'api-lookup',
  async run(ctx: BenchContext): Promise<BenchFigure[]> {
    const seconds = Math.max(2, Math.round(10 * ctx.scale));
    const namespace = `bench-${randomBytes(4).toString('hex')}:`;
    const keys = shipmentStateKeys(namespace);
    const state = shipmentState({ shipmentId: 'SHP-BENCH' });
    const redis = new Redis(ctx.config.redis.url);
    const key = `ck_bench_${randomBytes(24).toString('base64url')}`;
    try {
      await redis.hset(shipmentHashKey(keys, state.shipmentId), encodeShipmentHash(state));
      return await withBenchTopics(
        ctx,
        2,
        ctx.config.topics.partitions,
        async ([stateTopic, telemetryTopic]) => {
          const api = await startApiServer(
            {
              ...ctx.config,
              // One key whose limit the load cannot reach: the limiter still runs on every request.
              api: {
                ...ctx.config.api,
                keys: parseApiKeys(`${apiKeyEntryText('bench', ['read'], key)}:100000000`),
              },
            },
            ctx.log,
            {
              host: '127.0.0.1',
              port: 0,
              deps: {
                stateTopic,
                telemetryTopic,
                redisKeyNamespace: namespace,
                groupPrefix: `bench-api-${randomBytes(4).toString('hex')}`,
              },
            },
          );
          const bare = Fastify({ logger: false });
          const hashKey = shipmentHashKey(keys, state.shipmentId);
          bare.get('/shipments/:id', async () => redis.hgetall(hashKey));
          const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
          try {
            const headers = { 'x-api-key': key };
            // Warm both (JIT, connections), then measure one after the other.
            await load(`${api.url}/v1/shipments/${state.shipmentId}`, 2, headers);
            await load(`${bareUrl}/shipments/${state.shipmentId}`, 2, {});
            const viaApi = await load(
              `${api.url}/v1/shipments/${state.shipmentId}`,
              seconds,
              headers,
            );
            const viaBare = await load(`${bareUrl}/shipments/${state.shipmentId}`, seconds, {});
            const notes = `${seconds} s each, 20 connections, loopback, idle pipeline, one 25-field state`;
            return [
              {
                name: 'GET /v1/shipments/:id (API, idle)',
                value: viaApi.rps,
                unit: 'requests/s',
                baseline: { name: 'bare Fastify route, same Redis hash', value: viaBare.rps },
                notes,
              },
              {
                name: 'GET /v1/shipments/:id p99 (API, idle)',
                value: viaApi.p99,
                unit: 'ms',
                baseline: { name: 'bare Fastify route p99', value: viaBare.p99 },
                notes,
              },
            ];
          } finally {
            await bare.close();
            await api.close();
          }
        },
      );
    } finally {
      await redis.del(shipmentHashKey(keys, state.shipmentId));
      await redis.quit();
    }
  },
};
