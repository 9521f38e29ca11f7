// Runs one CDC source as a process until SIGTERM/SIGINT (core/shutdown.ts), with /metrics and
// /ready (core/metrics-server.ts): shared by run.ts and `continuum connect cdc`.
import { register as defaultRegistry, type Registry } from 'prom-client';
import type { Logger } from '../../../core/logger.ts';
import { startMetricsServer } from '../../../core/metrics-server.ts';
import { handleShutdown } from '../../../core/shutdown.ts';
import type { CdcSourceOptions } from './options.ts';
import { PostgresCdcSource } from './postgres-cdc-source.ts';

export interface RunCdcSourceOptions {
  source: CdcSourceOptions;
  log: Logger;
  /** Serve /metrics here; undefined = no HTTP server. */
  metrics?: { host: string; port: number };
  /** Where the source's metrics go; prom-client's default registry (what the server serves). */
  registry?: Registry;
}

/** Resolves when the source stopped after a signal; rejects when it failed for good. */
export async function runCdcSource(options: RunCdcSourceOptions): Promise<void> {
  const { log } = options;
  const registry = options.registry ?? defaultRegistry;
  const shutdown = handleShutdown(log);
  const source = new PostgresCdcSource(options.source, { log, metricsRegistry: registry });
  if (options.metrics) {
    // /ready: 200 once the slot streams. A writer started after it loses no change to a late
    // slot (compose's seed and `continuum demo` wait for it).
    const server = await startMetricsServer({
      ...options.metrics,
      registry,
      readiness: () => ({
        ready: source.streaming,
        detail: { slot: options.source.slot, table: options.source.table },
      }),
    });
    shutdown.onShutdown('metrics', () => server.close());
    log.info({ metricsPort: server.port }, 'serving /metrics and /ready');
  }
  shutdown.onShutdown('source.postgres-cdc', () => source.stop());
  try {
    await source.start();
    await Promise.race([shutdown.done, source.done]);
  } catch (err) {
    shutdown.trigger('CDC source failed');
    await shutdown.done;
    throw err;
  }
  await shutdown.done;
}
