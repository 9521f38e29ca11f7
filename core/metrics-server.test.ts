import { AggregatorRegistry, Counter, Registry } from 'prom-client';
import { startMetricsServer } from './metrics-server.ts';

describe('metrics server', () => {
  it('serves the registry on /metrics and answers /healthz', async () => {
    const registry = new Registry();
    new Counter({ name: 'continuum_test_total', help: 'test', registers: [registry] }).inc(3);
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry });
    try {
      const metrics = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      expect(await metrics.text()).toContain('continuum_test_total 3');
      expect(await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).text()).toBe('ok');
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('answers /ready with the readiness the process reports, and 404 where it reports none', async () => {
    let ready = false;
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      readiness: () => ({ ready, detail: { waitingFor: ready ? undefined : 'the slot' } }),
    });
    const plain = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
    });
    try {
      const before = await fetch(`http://127.0.0.1:${server.port}/ready`);
      expect(before.status).toBe(503);
      expect(await before.json()).toEqual({ status: 'not ready', waitingFor: 'the slot' });
      ready = true;
      const after = await fetch(`http://127.0.0.1:${server.port}/ready`);
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ status: 'ready' });
      expect((await fetch(`http://127.0.0.1:${plain.port}/ready`)).status).toBe(404);
    } finally {
      await Promise.all([server.close(), plain.close()]);
    }
  });

  it('serves what `collect` makes of the registry, and awaits an asynchronous readiness', async () => {
    const main = new Registry();
    new Counter({ name: 'continuum_test_total', help: 'test', registers: [main] }).inc(1);
    const other = new Registry();
    new Counter({ name: 'continuum_test_total', help: 'test', registers: [other] }).inc(2);
    let failing = false;
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      registry: main,
      // As `continuum streams` sums its worker threads' registries with its own.
      collect: async (registry) =>
        AggregatorRegistry.aggregate([
          await registry.getMetricsAsJSON(),
          await other.getMetricsAsJSON(),
        ]),
      readiness: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        if (failing) throw new Error('thread gone');
        return { ready: true, detail: { applications: 2 } };
      },
    });
    try {
      expect(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).toContain(
        'continuum_test_total 3',
      );
      const ready = await fetch(`http://127.0.0.1:${server.port}/ready`);
      expect({ status: ready.status, body: (await ready.json()) as unknown }).toEqual({
        status: 200,
        body: { status: 'ready', applications: 2 },
      });
      failing = true;
      const failed = await fetch(`http://127.0.0.1:${server.port}/ready`);
      expect({ status: failed.status, body: (await failed.json()) as unknown }).toEqual({
        status: 503,
        body: { status: 'not ready', error: 'Error: thread gone' },
      });
    } finally {
      await server.close();
    }
  });
});
