// What every sink process shares: /metrics and /ready (SinkRunner.readiness), graceful
// shutdown, Avro decoding through the registry, the SinkRunner, and a non-zero exit when the
// runner stops on a failure.
import type { Config } from '../../core/config.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import type { Logger } from '../../core/logger.ts';
import { startMetricsServer } from '../../core/metrics-server.ts';
import { handleShutdown, type Shutdown } from '../../core/shutdown.ts';
import { createSchemaRegistry } from '../../schemas/event-schemas.ts';
import type { Sink } from './sink.ts';
import { SinkRunner } from './sink-runner.ts';

export interface SinkProcessOptions {
  topic: string;
  groupId: string;
  metricsPort: number;
  /** Flush bounds within a fetched batch; the runner's defaults when unset. */
  flushRecords?: number;
  flushBytes?: number;
}

/**
 * Runs until SIGTERM/SIGINT. `openSink` connects the sink's store and registers its clean-up
 * with `shutdown` (closed after the runner stops, since closers run newest first).
 */
export async function runSinkProcess<T>(
  config: Config,
  log: Logger,
  name: string,
  options: SinkProcessOptions,
  openSink: (shutdown: Shutdown) => Promise<Sink<T>>,
): Promise<void> {
  const shutdown = handleShutdown(log);
  // /ready asks the runner once it exists (the server starts first, to answer while it starts).
  const started: { runner?: SinkRunner<T> } = {};
  const metrics = await startMetricsServer({
    host: config.api.host,
    port: options.metricsPort,
    readiness: () =>
      started.runner?.readiness() ?? { ready: false, detail: { sink: name, waitingFor: 'start' } },
  });
  shutdown.onShutdown('metrics', () => metrics.close());
  const sink = await openSink(shutdown);
  const registry = createSchemaRegistry(config);
  const runner = new SinkRunner<T>({
    onFatal: (err) => shutdown.trigger(`sink failed: ${err.message}`),
    kafka: createKafkaClient(config, `sink-${name}`, log),
    topic: options.topic,
    groupId: options.groupId,
    sink,
    decode: async (bytes) => (await registry.decode(bytes)) as T,
    log,
    ...(options.flushRecords === undefined ? {} : { flushRecords: options.flushRecords }),
    ...(options.flushBytes === undefined ? {} : { flushBytes: options.flushBytes }),
  });
  started.runner = runner;
  await runner.start();
  shutdown.onShutdown('sink', () => runner.stop());
  log.info({ ...options, metricsPort: metrics.port }, `${name} sink running`);
  await shutdown.done;
  // Stopped by a failure rather than a signal: the process must say so with its exit code.
  if (runner.error) throw runner.error;
}
