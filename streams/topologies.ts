// The platform's two stream applications as topologies: telemetry cleaning, and the shipment
// state join (shipment cleaning → re-key by vehicle → join → state + delivery examples).
// Serdes are parameters: production passes Avro serdes, tests JSON ones.
import type { Config, TopicsConfig } from '../core/config.ts';
import type {
  DeliveryExample,
  EtaModel,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../schemas/types.ts';
import {
  CLEAN_SHIPMENTS_STORES,
  CleanShipmentsProcessor,
  lifecycleForgetAt,
  type CleanShipmentsOptions,
  type ShipmentLifecycleState,
} from './clean/clean-shipments.ts';
import {
  CLEAN_TELEMETRY_STORES,
  CleanTelemetryProcessor,
  oldestHeldTime,
  seenAt,
  type CleanTelemetryOptions,
  type VehicleReorderState,
} from './clean/clean-telemetry.ts';
import { BaselineEtaPredictor } from './join/eta-predictor.ts';
import { ETA_MODELS_STORE, type PublishedModelOptions } from './join/published-model-predictor.ts';
import {
  SHIPMENT_ROUTER_STORES,
  ShipmentRouterProcessor,
  type ShipmentOwner,
} from './join/shipment-router.ts';
import {
  SHIPMENT_STATE_DEFAULTS,
  SHIPMENT_STATE_STORES,
  shipmentDueAt,
  ShipmentStateProcessor,
  type JoinChange,
  type OwnedShipment,
  type ShipmentStateOptions,
} from './join/shipment-state.ts';
import type { TripRecord } from './join/trip-checkpoints.ts';
import type { VehicleReading } from './join/unified-state.ts';
import type { ProcessorCallbacks } from './processor-metrics.ts';

type StreamsConfig = Config['streams'];
import { jsonSerde, stringSerde, type Serde } from './runtime/serde.ts';
import { TopologyBuilder, type Serdes, type Topology } from './runtime/topology.ts';

export const TELEMETRY_CLEAN_APP_ID = 'continuum-telemetry-clean';
export const SHIPMENT_STATE_APP_ID = 'continuum-shipment-state';

export interface StreamTopics {
  shipmentsCdc: string;
  telemetryRaw: string;
  telemetryClean: string;
  shipmentState: string;
  deliveriesCompleted: string;
  etaModels: string;
}

/** The topic names a topology needs, from the platform's configuration. */
export function streamTopics(topics: TopicsConfig): StreamTopics {
  return {
    shipmentsCdc: topics.shipmentsCdc,
    telemetryRaw: topics.telemetryRaw,
    telemetryClean: topics.telemetryClean,
    shipmentState: topics.shipmentState,
    deliveriesCompleted: topics.deliveriesCompleted,
    etaModels: topics.etaModels,
  };
}

/** The processors' options from the platform's configuration, with their callbacks wired. */
export function processorOptionsFromConfig(
  streams: StreamsConfig,
  callbacks?: ProcessorCallbacks,
): {
  clean: Partial<CleanTelemetryOptions>;
  cleanShipments: Partial<CleanShipmentsOptions>;
  shipmentState: Partial<ShipmentStateOptions>;
  readingHistoryMs: number;
} {
  return {
    clean: {
      quietAfterMs: streams.quietAfterMs,
      ...(callbacks ? { onDuplicate: callbacks.onDuplicateReading } : {}),
    },
    cleanShipments: {
      retentionMs: streams.shipmentRetentionMs,
      ...(callbacks ? { onDuplicate: callbacks.onDuplicateChange } : {}),
    },
    shipmentState: {
      quietAfterMs: streams.finishWhenQuietMs,
      finishAfterMs: streams.finishAfterMs,
      retentionMs: streams.shipmentRetentionMs,
      ...(callbacks
        ? { onStaleReading: callbacks.onStaleReading, onExampleSkipped: callbacks.onExampleSkipped }
        : {}),
    },
    readingHistoryMs: streams.readingHistoryMs,
  };
}

/** The platform's stream applications under an id prefix, with the external topics each reads. */
export function streamApplications(
  prefix: string,
  topics: StreamTopics,
): { app: 'telemetry-clean' | 'shipment-state'; applicationId: string; inputs: string[] }[] {
  return [
    {
      app: 'telemetry-clean',
      applicationId: `${prefix}-telemetry-clean`,
      inputs: [topics.telemetryRaw],
    },
    {
      app: 'shipment-state',
      applicationId: `${prefix}-shipment-state`,
      inputs: [topics.shipmentsCdc, topics.telemetryClean],
    },
  ];
}

/** Serdes of internal topics (stores' changelogs, repartitions): the application owns their format. */
function internal<V>(): Serdes<string, V> {
  return { key: stringSerde, value: jsonSerde<V>() };
}

export interface TelemetryCleanTopologyOptions {
  applicationId?: string;
  topics: Pick<StreamTopics, 'telemetryRaw' | 'telemetryClean'>;
  /** Values of telemetry.raw and telemetry.clean (keys are vehicle ids as strings). */
  telemetrySerde: Serde<VehicleTelemetry>;
  clean?: Partial<CleanTelemetryOptions>;
}

export function telemetryCleanTopology(opts: TelemetryCleanTopologyOptions): Topology {
  const telemetry = { key: stringSerde, value: opts.telemetrySerde };
  return new TopologyBuilder(opts.applicationId ?? TELEMETRY_CLEAN_APP_ID)
    .addSource('telemetry-raw', opts.topics.telemetryRaw, telemetry, {
      timestampExtractor: telemetryEventTime,
    })
    .addProcessor('clean-telemetry', () => new CleanTelemetryProcessor(opts.clean), [
      'telemetry-raw',
    ])
    .addStateStore(
      { name: CLEAN_TELEMETRY_STORES.seen, serdes: internal<number>(), timeIndex: seenAt },
      ['clean-telemetry'],
    )
    .addStateStore(
      {
        name: CLEAN_TELEMETRY_STORES.vehicles,
        serdes: internal<VehicleReorderState>(),
        timeIndex: oldestHeldTime,
      },
      ['clean-telemetry'],
    )
    .addStateStore({ name: CLEAN_TELEMETRY_STORES.watermark, serdes: internal<number>() }, [
      'clean-telemetry',
    ])
    .addSink('telemetry-clean', opts.topics.telemetryClean, telemetry, ['clean-telemetry'])
    .build();
}

export interface ShipmentStateTopologyOptions {
  applicationId?: string;
  topics: Pick<
    StreamTopics,
    'shipmentsCdc' | 'telemetryClean' | 'shipmentState' | 'deliveriesCompleted'
  > &
    Partial<Pick<StreamTopics, 'etaModels'>>;
  serdes: {
    shipmentChange: Serde<ShipmentChange>;
    telemetry: Serde<VehicleTelemetry>;
    shipmentState: Serde<UnifiedShipmentState>;
    deliveryExample: Serde<DeliveryExample>;
    /** With `topics.etaModels`: the join serves published models from that topic. */
    etaModel?: Serde<EtaModel>;
  };
  /** Which published model serves (default eta-linear), and its interval. */
  etaModels?: Partial<PublishedModelOptions>;
  cleanShipments?: Partial<CleanShipmentsOptions>;
  shipmentState?: Partial<ShipmentStateOptions>;
  /** How long (event time) the join keeps each vehicle's readings to join late changes with. */
  readingHistoryMs?: number;
}

export const DEFAULT_READING_HISTORY_MS = 24 * 3_600_000;

/** The repartition to the join's tasks; its topic is `<app-id>-shipments-by-owner-repartition`. */
export const SHIPMENTS_BY_OWNER = 'shipments-by-owner';

/**
 * Event time of a telemetry reading: when the vehicle measured it, whatever the producer put in
 * the record's timestamp.
 */
export function telemetryEventTime(record: { value: VehicleTelemetry }): number {
  return record.value.eventTime;
}

/**
 * Event time of a shipment change: when the business change happened (`updated_at` of the row),
 * not when PostgreSQL committed it or the CDC source produced it — the same clock as telemetry.
 */
export function shipmentChangeEventTime(record: {
  value: ShipmentChange;
  timestamp: number;
}): number {
  const row = record.value.after ?? record.value.before;
  return row?.updatedAt ?? record.value.commitTime;
}

/** Names of the join's output nodes (processors forward to them by name). */
const NODES = {
  router: 'shipment-router',
  join: 'shipment-state',
  stateOut: 'shipment-state-out',
  examplesOut: 'deliveries-completed',
  toOwner: `${SHIPMENTS_BY_OWNER}-sink`,
} as const;

export function shipmentStateTopology(opts: ShipmentStateTopologyOptions): Topology {
  const s = opts.serdes;
  const etaModels =
    opts.topics.etaModels !== undefined && s.etaModel !== undefined
      ? { topic: opts.topics.etaModels, serde: s.etaModel }
      : undefined;
  const joinOptions = { ...SHIPMENT_STATE_DEFAULTS, ...opts.shipmentState };
  const builder = new TopologyBuilder(opts.applicationId ?? SHIPMENT_STATE_APP_ID)
    // Shipment changes (key = shipment id): clean, then route to the task that owns each one.
    .addSource(
      'shipments-cdc',
      opts.topics.shipmentsCdc,
      { key: stringSerde, value: s.shipmentChange },
      { timestampExtractor: shipmentChangeEventTime },
    )
    .addProcessor('clean-shipments', () => new CleanShipmentsProcessor(opts.cleanShipments), [
      'shipments-cdc',
    ])
    .addStateStore(
      {
        name: CLEAN_SHIPMENTS_STORES.shipments,
        serdes: internal<ShipmentLifecycleState>(),
        timeIndex: lifecycleForgetAt,
      },
      ['clean-shipments'],
    )
    .addProcessor(
      NODES.router,
      () =>
        new ShipmentRouterProcessor(
          {
            retentionMs: opts.cleanShipments?.retentionMs ?? joinOptions.retentionMs,
            predictor: new BaselineEtaPredictor(),
          },
          { toJoin: NODES.toOwner, toState: NODES.stateOut },
        ),
      ['clean-shipments'],
    )
    .addStateStore(
      {
        name: SHIPMENT_ROUTER_STORES.owners,
        serdes: internal<ShipmentOwner>(),
        timeIndex: (o: ShipmentOwner) => o.forgetAt ?? undefined,
      },
      [NODES.router],
    )
    // The join (key = vehicle id): owned shipments ⋈ their vehicle's readings.
    .addRepartitionSource(SHIPMENTS_BY_OWNER, internal<JoinChange>())
    .addSource(
      'telemetry-clean',
      opts.topics.telemetryClean,
      { key: stringSerde, value: s.telemetry },
      { timestampExtractor: telemetryEventTime },
    )
    .addProcessor(
      NODES.join,
      () =>
        new ShipmentStateProcessor(
          {
            ...opts.shipmentState,
            ...(etaModels ? { etaModels: { ...opts.etaModels, store: ETA_MODELS_STORE } } : {}),
          },
          { state: NODES.stateOut, examples: NODES.examplesOut, handoffs: NODES.toOwner },
        ),
      [SHIPMENTS_BY_OWNER, 'telemetry-clean'],
    )
    .addStateStore(
      {
        name: SHIPMENT_STATE_STORES.readings,
        serdes: internal<VehicleReading>(),
        versioned: { historyRetentionMs: opts.readingHistoryMs ?? DEFAULT_READING_HISTORY_MS },
      },
      [NODES.join],
    )
    .addStateStore(
      {
        name: SHIPMENT_STATE_STORES.shipments,
        serdes: internal<OwnedShipment>(),
        timeIndex: shipmentDueAt,
      },
      [NODES.join],
    )
    .addStateStore({ name: SHIPMENT_STATE_STORES.vehicleShipments, serdes: internal<string[]>() }, [
      NODES.join,
    ])
    .addStateStore({ name: SHIPMENT_STATE_STORES.trips, serdes: internal<TripRecord>() }, [
      NODES.join,
    ])
    .addStateStore({ name: SHIPMENT_STATE_STORES.pending, serdes: internal<JoinChange[]>() }, [
      NODES.join,
    ])
    // Handoffs to another vehicle's task go through the same repartition.
    .addRepartitionSink(SHIPMENTS_BY_OWNER, internal<JoinChange>(), [NODES.router, NODES.join])
    .addSink(
      NODES.stateOut,
      opts.topics.shipmentState,
      { key: stringSerde, value: s.shipmentState },
      [NODES.router, NODES.join],
    )
    .addSink(
      NODES.examplesOut,
      opts.topics.deliveriesCompleted,
      { key: stringSerde, value: s.deliveryExample },
      [NODES.join],
    );
  if (etaModels)
    builder.addGlobalStore(
      {
        name: ETA_MODELS_STORE,
        topic: etaModels.topic,
        serdes: { key: stringSerde, value: etaModels.serde },
      },
      [NODES.join],
    );
  return builder.build();
}
