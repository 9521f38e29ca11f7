// The metric catalog against the code that registers each platform metric: same name, type and
// label names. A producer renaming a metric or a label fails here, not in a dashboard panel.
// (Exporter metrics are found in the real Prometheus by test/e2e/live-platform.test.ts.)
import Fastify from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { trainerMetrics } from '../ml/trainer-metrics.ts';
import { registerHttpMetrics } from '../api/plugins/http-metrics.ts';
import { CdcMetrics } from '../connectors/sources/postgres-cdc/metrics.ts';
import { SinkRunner } from '../connectors/sinks/sink-runner.ts';
import { TelemetrySdkMetrics } from '../connectors/telemetry-sdk/telemetry-sdk-metrics.ts';
import { processorMetrics } from '../streams/processor-metrics.ts';
import { StreamsMetrics } from '../streams/runtime/streams-metrics.ts';
import { registerConsumerLagGauges } from './consumer-lag.ts';
import { createLogger } from './logger.ts';
import { METRICS, type MetricProducer, type MetricSpec } from './metric-catalog.ts';

/** What each Continuum process registers, on a fresh registry (no I/O). */
const REGISTRARS: Partial<Record<MetricProducer, (registry: Registry) => void>> = {
  ml: (registry) => {
    trainerMetrics(registry);
  },
  streams: (registry) => {
    new StreamsMetrics(registry);
    processorMetrics(registry);
  },
  sink: (registry) => {
    new SinkRunner({
      kafka: new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }),
      topic: 't',
      groupId: 'g',
      sink: {
        name: 'test',
        add: () => undefined,
        flush: () => Promise.resolve({ written: 0 }),
        close: () => Promise.resolve(),
      },
      decode: () => Promise.resolve(null),
      log: createLogger('silent'),
      metricsRegistry: registry,
    });
  },
  cdc: (registry) => {
    new CdcMetrics(registry, 'slot');
  },
  sdk: (registry) => {
    new TelemetrySdkMetrics(registry);
  },
  api: (registry) => registerHttpMetrics(Fastify(), registry),
  lag: (registry) => {
    registerConsumerLagGauges(registry, () => Promise.resolve([]));
  },
};

/** Producers outside the platform's processes: checked against the real Prometheus instead. */
const EXTERNAL: readonly MetricProducer[] = [
  'postgres-exporter',
  'redis-exporter',
  'kafka-broker',
  'prometheus',
];

const catalog = Object.entries(METRICS) as [string, MetricSpec][];

describe('the metric catalog', () => {
  it.each(catalog.filter(([, m]) => REGISTRARS[m.producer]))(
    '%s is registered by its producer with the same type and labels',
    async (_key, spec) => {
      const registry = new Registry();
      REGISTRARS[spec.producer]?.(registry);
      const metric = registry.getSingleMetric(spec.name);
      expect({ name: spec.name, registered: metric !== undefined }).toEqual({
        name: spec.name,
        registered: true,
      });
      expect((await metric?.get())?.type).toBe(spec.type);
      const labelNames = (metric as unknown as { labelNames: string[] }).labelNames;
      expect([...labelNames].sort()).toEqual([...spec.labels].sort());
    },
  );

  it('names a producer for every metric, each either registered here or measured by an exporter', () => {
    const unchecked = catalog.filter(
      ([, m]) => !REGISTRARS[m.producer] && !EXTERNAL.includes(m.producer),
    );
    expect(unchecked.map(([, m]) => `${m.name} (${m.producer})`)).toEqual([]);
  });

  it('has unique names, each a valid Prometheus metric name', () => {
    const names = catalog.map(([, m]) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
  });
});
