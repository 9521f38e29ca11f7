// How the pipeline benchmark starts a StreamsApplication on each Kafka client adapter of the
// runtime, in one place, so a change of the runtime's constructor is adapted here only.
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { streamsRuntimeOptions } from '../streams/platform-streams.ts';
import { createStreamsClient } from '../streams/runtime/clients/create-streams-client.ts';
import { StreamsApplication } from '../streams/runtime/streams-application.ts';
import type { Topology } from '../streams/runtime/topology.ts';
import type { PipelineClient } from './pipeline-options.ts';

export interface BenchStreamsApp {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The applications of one pipeline, one per topology, sharing one client and `metrics`. */
export type StreamsAppFactory = (
  topologies: readonly Topology[],
  onFatal: (error: Error) => void,
  metrics: Registry,
) => BenchStreamsApp[];

/** Exactly-once applications on the runtime's `client` adapter, as `continuum streams` runs them. */
export function streamsAppFactory(
  client: PipelineClient,
  deps: { config: Pick<Config, 'kafka' | 'streams'>; log: Logger },
): StreamsAppFactory {
  return (topologies, onFatal, metrics) => {
    const kafka = createStreamsClient(deps.config, client, deps.log);
    return topologies.map(
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
