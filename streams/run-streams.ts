// The `continuum streams` process: the platform's stream applications on Kafka with Avro serdes
// (schemas registered first), /metrics, and a graceful stop. Run more instances to scale out.
import type { Config } from '../core/config.ts';
import { ContinuumError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { startMetricsServer } from '../core/metrics-server.ts';
import { handleShutdown } from '../core/shutdown.ts';
import { createSchemaRegistry } from '../schemas/event-schemas.ts';
import { RegistryAdmin } from '../schemas/registry-admin.ts';
import { platformSchemaBindings, registerSchemas } from '../schemas/subjects.ts';
import type {
  DeliveryExample,
  EtaModel,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../schemas/types.ts';
import { platformTopologies, streamsRuntimeOptions, type StreamApp } from './platform-streams.ts';
import { processorMetrics } from './processor-metrics.ts';
import { createStreamsClient } from './runtime/clients/create-streams-client.ts';
import { avroSerde } from './runtime/serde.ts';
import { StreamsApplication, type ProcessingGuarantee } from './runtime/streams-application.ts';
import { streamTopics } from './topologies.ts';

export interface RunStreamsOptions {
  apps: readonly StreamApp[];
  guarantee: ProcessingGuarantee;
  metricsPort: number;
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
  const idOf = (topic: string): number => {
    const id = outcomes.find((o) => o.binding.subject === `${topic}-value`)?.id;
    if (id === undefined) throw new ContinuumError(`no schema registered for ${topic}`);
    return id;
  };
  const topics = streamTopics(config.topics);
  const shutdown = handleShutdown(log);
  const client = createStreamsClient(config, config.streams.client, log);
  const topologies = platformTopologies({
    prefix: config.streams.applicationPrefix,
    topics,
    apps: options.apps,
    streams: config.streams,
    modelName: config.ml.modelName,
    callbacks: processorMetrics(),
    serdes: {
      telemetry: avroSerde<VehicleTelemetry>(registry, idOf(topics.telemetryClean)),
      shipmentChange: avroSerde<ShipmentChange>(registry, idOf(topics.shipmentsCdc)),
      shipmentState: avroSerde<UnifiedShipmentState>(registry, idOf(topics.shipmentState)),
      deliveryExample: avroSerde<DeliveryExample>(registry, idOf(topics.deliveriesCompleted)),
      etaModel: avroSerde<EtaModel>(registry, idOf(topics.etaModels)),
    },
  });
  const apps: StreamsApplication[] = [];
  const metrics = await startMetricsServer({
    host: config.api.host,
    port: options.metricsPort,
    // Ready once every application runs all its tasks and fetches (StreamsApplication.readiness).
    readiness: () => {
      const each = apps.map((app) => app.readiness());
      return {
        ready: apps.length === topologies.length && each.every((r) => r.ready),
        detail: { applications: each.map((r) => ({ ready: r.ready, ...r.detail })) },
      };
    },
  });
  shutdown.onShutdown('metrics', () => metrics.close());
  for (const topology of topologies) {
    const app = new StreamsApplication({
      topology,
      client,
      log,
      guarantee: options.guarantee,
      ...streamsRuntimeOptions(config.streams),
      onFatal: (err) => shutdown.trigger(`fatal: ${err.message}`),
    });
    apps.push(app);
    shutdown.onShutdown(`streams.${topology.applicationId}`, () => app.stop());
    try {
      await app.start();
    } catch (err) {
      // Stop what already runs (the other application, /metrics), so the process exits with
      // the error instead of staying up with half a pipeline.
      shutdown.trigger(`start of ${topology.applicationId} failed`);
      await shutdown.done;
      throw err;
    }
  }
  log.info(
    {
      apps: options.apps,
      guarantee: options.guarantee,
      client: client.kind,
      metricsPort: metrics.port,
    },
    'streams running',
  );
  await shutdown.done;
}
