// How the pipeline benchmark starts the platform's stream applications on each Kafka client
// adapter of the runtime, in this thread or a worker thread each (CONTINUUM_STREAMS_THREADS), in
// one place, so a change of the runtime's constructor is adapted here only.
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { StreamsApplicationThread } from '../streams/application-thread.ts';
import {
  STREAM_APPS,
  streamsRuntimeOptions,
  type PlatformSchemaIds,
  type StreamApp,
} from '../streams/platform-streams.ts';
import { createStreamsClient } from '../streams/runtime/clients/create-streams-client.ts';
import { StreamsApplication } from '../streams/runtime/streams-application.ts';
import type { Topology } from '../streams/runtime/topology.ts';
import type { StreamTopics } from '../streams/topologies.ts';
import type { PipelineClient, PipelineThreads } from './pipeline-options.ts';

export interface BenchStreamsApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Metrics kept outside the pipeline's registry (a worker thread's), to aggregate. */
  workerMetrics?(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
}

/** One pipeline of a row: its topologies, and the plain data a worker thread builds them from. */
export interface PipelineSpec {
  topologies: readonly [Topology, Topology];
  /** Application id prefix: `<prefix>-telemetry-clean`, `<prefix>-shipment-state`. */
  prefix: string;
  topics: StreamTopics;
  schemaIds: PlatformSchemaIds;
  graceMs: number;
}

/** The applications of one pipeline, one per topology, counting into `metrics`. */
export type StreamsAppFactory = (
  pipeline: PipelineSpec,
  onFatal: (error: Error) => void,
  metrics: Registry,
) => BenchStreamsApp[];

/** A way to run the pipeline the benchmark measures: a client, and how the applications share threads. */
export interface PipelineVariant {
  client: PipelineClient;
  threads: PipelineThreads;
  /** In figure names: `kafkajs client`, or `kafkajs client, thread per application`. */
  label: string;
  /** In topic and group names. */
  slug: string;
  factory: StreamsAppFactory;
  /** Ends what the variant keeps between rows (worker threads). */
  close(): Promise<void>;
}

export function pipelineVariant(
  client: PipelineClient,
  threads: PipelineThreads,
  deps: { config: Config; log: Logger },
): PipelineVariant {
  const perApplication = threads === 'per-application';
  return {
    client,
    threads,
    label: perApplication ? `${client} client, thread per application` : `${client} client`,
    slug: perApplication ? `${client}-thr` : client,
    ...(perApplication
      ? threadedApps(client, deps)
      : { factory: streamsAppFactory(client, deps), close: () => Promise.resolve() }),
  };
}

/** Exactly-once applications in this thread on the runtime's `client` adapter, sharing it. */
export function streamsAppFactory(
  client: PipelineClient,
  deps: { config: Pick<Config, 'kafka' | 'streams'>; log: Logger },
): StreamsAppFactory {
  return (pipeline, onFatal, metrics) => {
    const kafka = createStreamsClient(deps.config, client, deps.log);
    return pipeline.topologies.map(
      (topology) =>
        new StreamsApplication({
          topology,
          client: kafka,
          log: deps.log,
          guarantee: 'exactly-once',
          ...streamsRuntimeOptions(deps.config.streams),
          // The pipeline's own registry, so its counters are its alone (the runtime shares
          // metrics of one name within a registry).
          metricsRegistry: metrics,
          onFatal,
        }),
    );
  };
}

/**
 * Exactly-once applications each on a worker thread of its own, as `continuum streams` runs them
 * with CONTINUUM_STREAMS_THREADS=per-application (StreamsApplicationThread), built there from the
 * spec's plain data as `topologies` were built here. The threads stay for the next row (one per
 * application, opened on first use, closed by `close`): a new thread compiles everything again,
 * and the rows of the main thread run warm.
 */
function threadedApps(
  client: PipelineClient,
  deps: { config: Config; log: Logger },
): Pick<PipelineVariant, 'factory' | 'close'> {
  const threads = new Map<StreamApp, Promise<StreamsApplicationThread>>();
  /** The running row's: a thread's fatal error fails the row it happens in. */
  let onFatalNow: (error: Error) => void = () => undefined;
  const threadOf = (app: StreamApp): Promise<StreamsApplicationThread> => {
    let thread = threads.get(app);
    if (!thread) {
      thread = StreamsApplicationThread.open({ log: deps.log, onFatal: (e) => onFatalNow(e) });
      threads.set(app, thread);
    }
    return thread;
  };
  const factory: StreamsAppFactory = (pipeline, onFatal) => {
    onFatalNow = onFatal;
    return STREAM_APPS.map((app) => {
      let running: StreamsApplicationThread | undefined;
      return {
        start: async () => {
          const thread = await threadOf(app);
          await thread.startApplication({
            config: deps.config,
            app,
            prefix: pipeline.prefix,
            topics: pipeline.topics,
            schemaIds: pipeline.schemaIds,
            guarantee: 'exactly-once',
            client,
            clean: { graceMs: pipeline.graceMs },
            logLevel: deps.log.level as Config['logLevel'],
          });
          running = thread;
        },
        stop: async () => {
          const thread = running;
          running = undefined;
          await thread?.stopApplication();
        },
        workerMetrics: async () => (running ? running.metrics() : []),
      };
    });
  };
  const close = async (): Promise<void> => {
    const opened = [...threads.values()];
    threads.clear();
    for (const thread of opened) await (await thread).close();
  };
  return { factory, close };
}
