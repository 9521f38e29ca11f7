// Prometheus metrics of the telemetry producer SDK.
import { registeredOnce } from '../../core/metrics.ts';
import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';

export class TelemetrySdkMetrics {
  readonly sent: Counter;
  readonly rejected: Counter;
  readonly refusedByKafka: Counter<'reason'>;
  readonly sendErrors: Counter;
  readonly backpressureWaits: Counter;
  readonly buffered: Gauge;
  readonly batchSeconds: Histogram;

  constructor(registry: Registry = defaultRegistry) {
    const registers = [registry];
    this.sent = registeredOnce(
      registry,
      'continuum_sdk_events_sent_total',
      () =>
        new Counter({
          name: 'continuum_sdk_events_sent_total',
          help: 'Telemetry events acknowledged by Kafka',
          registers,
        }),
    );
    this.rejected = registeredOnce(
      registry,
      'continuum_sdk_events_rejected_total',
      () =>
        new Counter({
          name: 'continuum_sdk_events_rejected_total',
          help: 'Events refused at send because they do not match the schema',
          registers,
        }),
    );
    this.refusedByKafka = registeredOnce(
      registry,
      'continuum_sdk_events_refused_total',
      () =>
        new Counter({
          name: 'continuum_sdk_events_refused_total',
          help: 'Events Kafka refused for good after they were accepted (e.g. MESSAGE_TOO_LARGE); flush() reports them',
          labelNames: ['reason'],
          registers,
        }),
    );
    this.sendErrors = registeredOnce(
      registry,
      'continuum_sdk_send_errors_total',
      () =>
        new Counter({
          name: 'continuum_sdk_send_errors_total',
          help: 'Failed produce requests (retried unless Kafka refuses for good)',
          registers,
        }),
    );
    this.backpressureWaits = registeredOnce(
      registry,
      'continuum_sdk_backpressure_waits_total',
      () =>
        new Counter({
          name: 'continuum_sdk_backpressure_waits_total',
          help: 'Times send() waited for buffer space',
          registers,
        }),
    );
    this.buffered = registeredOnce(
      registry,
      'continuum_sdk_buffered_events',
      () =>
        new Gauge({
          name: 'continuum_sdk_buffered_events',
          help: 'Events accepted and not yet acknowledged',
          registers,
        }),
    );
    this.batchSeconds = registeredOnce(
      registry,
      'continuum_sdk_batch_send_seconds',
      () =>
        new Histogram({
          name: 'continuum_sdk_batch_send_seconds',
          help: 'Duration of one produce request',
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers,
        }),
    );
  }
}
