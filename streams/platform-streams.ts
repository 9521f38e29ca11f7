// The composition root of the platform's stream applications: which topologies, with which
// processor options, callbacks and serdes, and the runtime options they run with. Used by
// `continuum streams` (run-streams.ts), the pipeline benchmark and the test harness, so what
// they run is the same pipeline (the benchmark once ran the join without the platform's
// model name, reading-history window or drop counters).
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Config } from '../core/config.ts';
import type {
  DeliveryExample,
  EtaModel,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../schemas/types.ts';
import type { CleanTelemetryOptions } from './clean/clean-telemetry.ts';
import type { ProcessorCallbacks } from './processor-metrics.ts';
import { avroSerde } from './runtime/serde.ts';
import type { StreamsApplicationOptions } from './runtime/streams-application.ts';
import type { Topology } from './runtime/topology.ts';
import {
  processorOptionsFromConfig,
  shipmentStateTopology,
  telemetryCleanTopology,
  type ShipmentStateTopologyOptions,
  type StreamTopics,
} from './topologies.ts';

type StreamsConfig = Config['streams'];

export const STREAM_APPS = ['telemetry-clean', 'shipment-state'] as const;
export type StreamApp = (typeof STREAM_APPS)[number];

/** The value serde of each external topic the applications read or write (the join's, all given). */
export type PlatformSerdes = Required<ShipmentStateTopologyOptions['serdes']>;

/** The registered schema id of each topic whose values the applications encode or decode. */
export type PlatformSchemaIds = Record<
  'telemetryClean' | 'shipmentsCdc' | 'shipmentState' | 'deliveriesCompleted' | 'etaModels',
  number
>;

/** Every id the applications need, each looked up by its topic's role (throws where one is missing). */
export function platformSchemaIds(
  idOf: (role: keyof PlatformSchemaIds) => number,
): PlatformSchemaIds {
  return {
    telemetryClean: idOf('telemetryClean'),
    shipmentsCdc: idOf('shipmentsCdc'),
    shipmentState: idOf('shipmentState'),
    deliveriesCompleted: idOf('deliveriesCompleted'),
    etaModels: idOf('etaModels'),
  };
}

/** The applications' Avro serdes, by the schema ids registered for their topics. */
export function platformSerdes(registry: SchemaRegistry, ids: PlatformSchemaIds): PlatformSerdes {
  return {
    telemetry: avroSerde<VehicleTelemetry>(registry, ids.telemetryClean),
    shipmentChange: avroSerde<ShipmentChange>(registry, ids.shipmentsCdc),
    shipmentState: avroSerde<UnifiedShipmentState>(registry, ids.shipmentState),
    deliveryExample: avroSerde<DeliveryExample>(registry, ids.deliveriesCompleted),
    etaModel: avroSerde<EtaModel>(registry, ids.etaModels),
  };
}

export interface PlatformTopologiesOptions {
  /** Application ids are `<prefix>-telemetry-clean` and `<prefix>-shipment-state`. */
  prefix: string;
  topics: StreamTopics;
  serdes: PlatformSerdes;
  /** The processors' settings (quiet spells, retention, reading history). */
  streams: StreamsConfig;
  /** The published ETA model the join serves (CONTINUUM_ML_MODEL_NAME). */
  modelName: string;
  /** What the processors drop on purpose is counted here (processorMetrics). */
  callbacks?: ProcessorCallbacks;
  /** Overrides of the cleaner's options (a benchmark's reorder grace). */
  clean?: Partial<CleanTelemetryOptions>;
  /** Which applications (default: both). */
  apps?: readonly StreamApp[];
}

export function platformApplicationId(prefix: string, app: StreamApp): string {
  return `${prefix}-${app}`;
}

/** The platform's topologies, in pipeline order (cleaning, then the join). */
export function platformTopologies(options: PlatformTopologiesOptions): Topology[] {
  const { prefix, topics, serdes } = options;
  const processors = processorOptionsFromConfig(options.streams, options.callbacks);
  return (options.apps ?? STREAM_APPS).map((app) =>
    app === 'telemetry-clean'
      ? telemetryCleanTopology({
          applicationId: platformApplicationId(prefix, app),
          topics,
          telemetrySerde: serdes.telemetry,
          clean: { ...processors.clean, ...options.clean },
        })
      : shipmentStateTopology({
          applicationId: platformApplicationId(prefix, app),
          topics,
          cleanShipments: processors.cleanShipments,
          shipmentState: processors.shipmentState,
          readingHistoryMs: processors.readingHistoryMs,
          etaModels: { modelName: options.modelName },
          serdes,
        }),
  );
}

/** The runtime options `continuum streams` runs every application with, from the configuration. */
export function streamsRuntimeOptions(
  streams: StreamsConfig,
): Pick<
  StreamsApplicationOptions,
  | 'commitIntervalMs'
  | 'repartitionPurgeIntervalMs'
  | 'maxFutureMs'
  | 'maxTransactionRecords'
  | 'maxTransactionBytes'
  | 'persistentStores'
  | 'stateDir'
> {
  return {
    commitIntervalMs: streams.commitIntervalMs,
    repartitionPurgeIntervalMs: streams.repartitionPurgeIntervalMs,
    maxFutureMs: streams.maxFutureMs,
    maxTransactionRecords: streams.maxTransactionRecords,
    maxTransactionBytes: streams.maxTransactionBytes,
    persistentStores: streams.stores === 'disk',
    stateDir: streams.stateDir,
  };
}
