import { Counter, Registry } from 'prom-client';
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
});
