import { Registry } from 'prom-client';
import { processorMetrics } from '../processor-metrics.ts';
import { StreamsMetrics } from './streams-metrics.ts';

describe('streams metrics', () => {
  it('count rare events from 0, so rates read 0 rather than "no data" before the first', async () => {
    const registry = new Registry();
    new StreamsMetrics(registry).initialize('app-1');
    processorMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain('continuum_transaction_aborts_total{application="app-1"} 0');
    expect(text).toContain(
      'continuum_repartition_purges_total{application="app-1",outcome="failed"} 0',
    );
    expect(text).toContain(
      'continuum_records_dropped_total{processor="clean-telemetry",reason="duplicate"} 0',
    );
  });
});
