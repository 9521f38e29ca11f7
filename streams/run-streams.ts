// The `continuum streams` process: the platform's stream applications on Kafka with Avro serdes
// (schemas registered first), /metrics, and a graceful stop. Run more instances to scale out.
// CONTINUUM_STREAMS_THREADS: each application on a worker thread of its own (per-application,
// application-thread.ts), or all on this thread (one).
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import { ContinuumError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { startMetricsServer, type Readiness } from '../core/metrics-server.ts';
import { handleShutdown } from '../core/shutdown.ts';
import { createSchemaRegistry } from '../schemas/event-schemas.ts';
import { RegistryAdmin } from '../schemas/registry-admin.ts';
import { platformSchemaBindings, registerSchemas } from '../schemas/subjects.ts';
import { StreamsApplicationThread, type Metrics } from './application-thread.ts';
import {
  platformSchemaIds,
  platformSerdes,
  platformTopologies,
  streamsRuntimeOptions,
  type PlatformSchemaIds,
  type StreamApp,
} from './platform-streams.ts';
import { processorMetrics } from './processor-metrics.ts';
import { createStreamsClient } from './runtime/clients/create-streams-client.ts';
import { StreamsApplication, type ProcessingGuarantee } from './runtime/streams-application.ts';
import { streamTopics, type StreamTopics } from './topologies.ts';

export interface RunStreamsOptions {
  apps: readonly StreamApp[];
  guarantee: ProcessingGuarantee;
  metricsPort: number;
}

/** What runStreams runs: an application in this thread or on a worker thread of its own. */
interface RunningApplication {
  readiness(): Readiness | Promise<Readiness>;
  stop(): Promise<void>;
  /** On a worker thread: its metrics, kept in that thread's registry (summed into /metrics). */
  metrics?(): Promise<Metrics>;
}

export async function runStreams(
  config: Config,
  log: Logger,
  options: RunStreamsOptions,
): Promise<void> {
  const registry = createSchemaRegistry(config);
  const outcomes = await registerSchemas(
    registry,
    new RegistryAdmin(config.schemaRegistry.url),
    platformSchemaBindings(config.topics),
    log,
  );
  const refused = outcomes.filter((o) => o.id === undefined);
  if (refused.length > 0) {
    throw new ContinuumError(
      `schemas not registered: ${refused.map((o) => `${o.binding.subject} (${o.error ?? 'unknown'})`).join('; ')}`,
    );
  }
  const topics = streamTopics(config.topics);
  const idOf = (topic: string): number => {
    const id = outcomes.find((o) => o.binding.subject === `${topic}-value`)?.id;
    if (id === undefined) throw new ContinuumError(`no schema registered for ${topic}`);
    return id;
  };
  const schemaIds = platformSchemaIds((role) => idOf(topics[role]));
  const shutdown = handleShutdown(log);
  const threads = config.streams.threads === 'per-application';
  const apps: RunningApplication[] = [];
  const metrics = await startMetricsServer({
    host: config.api.host,
    port: options.metricsPort,
    // The applications' metrics live in their threads' registries: summed with this thread's.
    ...(threads
      ? {
          collect: async (main: Registry) =>
            AggregatorRegistry.aggregate([
              await main.getMetricsAsJSON(),
              ...(await Promise.all(apps.flatMap((app) => (app.metrics ? [app.metrics()] : [])))),
            ]),
        }
      : {}),
    // Ready once every application runs all its tasks and fetches (StreamsApplication.readiness).
    readiness: async () => {
      const each = await Promise.all(apps.map(async (app) => app.readiness()));
      return {
        ready: apps.length === options.apps.length && each.every((r) => r.ready),
        detail: { applications: each.map((r) => ({ ready: r.ready, ...r.detail })) },
      };
    },
  });
  shutdown.onShutdown('metrics', () => metrics.close());
  const onFatal = (err: Error): void => shutdown.trigger(`fatal: ${err.message}`);
  const started = threads
    ? startThreads(config, log, options, { topics, schemaIds, onFatal })
    : startInProcess(config, log, options, { topics, registry, schemaIds, onFatal });
  try {
    for await (const app of started) {
      apps.push(app);
      shutdown.onShutdown(`streams.${apps.length}`, () => app.stop());
    }
  } catch (err) {
    // Stop what already runs (the other application, /metrics), so the process exits with
    // the error instead of staying up with half a pipeline.
    shutdown.trigger(`start failed: ${errorMessage(err)}`);
    await shutdown.done;
    throw err;
  }
  log.info(
    {
      apps: options.apps,
      guarantee: options.guarantee,
      client: config.streams.client,
      threads: config.streams.threads,
      metricsPort: metrics.port,
    },
    'streams running',
  );
  await shutdown.done;
}

interface StartContext {
  topics: StreamTopics;
  schemaIds: PlatformSchemaIds;
  onFatal: (err: Error) => void;
}

/** Every application in this thread, sharing one Kafka client, started one after another. */
async function* startInProcess(
  config: Config,
  log: Logger,
  options: RunStreamsOptions,
  context: StartContext & { registry: SchemaRegistry },
): AsyncGenerator<RunningApplication> {
  const client = createStreamsClient(config, config.streams.client, log);
  const topologies = platformTopologies({
    prefix: config.streams.applicationPrefix,
    topics: context.topics,
    apps: options.apps,
    streams: config.streams,
    modelName: config.ml.modelName,
    callbacks: processorMetrics(),
    serdes: platformSerdes(context.registry, context.schemaIds),
  });
  for (const topology of topologies) {
    const app = new StreamsApplication({
      topology,
      client,
      log,
      guarantee: options.guarantee,
      ...streamsRuntimeOptions(config.streams),
      onFatal: context.onFatal,
    });
    try {
      await app.start();
    } catch (err) {
      await app.stop().catch(() => undefined);
      throw err;
    }
    // Its metrics are in this thread's registry already.
    yield { readiness: () => app.readiness(), stop: () => app.stop() };
  }
}

/** Each application on a worker thread of its own, started together. */
async function* startThreads(
  config: Config,
  log: Logger,
  options: RunStreamsOptions,
  context: StartContext,
): AsyncGenerator<RunningApplication> {
  const starting = options.apps.map((app) =>
    StreamsApplicationThread.start(
      {
        config,
        app,
        prefix: config.streams.applicationPrefix,
        topics: context.topics,
        schemaIds: context.schemaIds,
        guarantee: options.guarantee,
        client: config.streams.client,
        logLevel: config.logLevel,
      },
      { log, onFatal: context.onFatal },
    ),
  );
  const outcomes = await Promise.allSettled(starting);
  const failed = outcomes.find((o) => o.status === 'rejected');
  for (const outcome of outcomes) if (outcome.status === 'fulfilled') yield outcome.value;
  if (failed) throw failed.reason;
}
