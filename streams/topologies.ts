// The platform's two stream applications as topologies: telemetry cleaning, and the shipment
// state join (shipment cleaning → re-key by vehicle → join → state + delivery examples).
// Serdes are parameters: production passes Avro serdes, tests JSON ones.
import type { TopicsConfig } from '../core/config.ts';
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
  type CleanShipmentsOptions,
  type ShipmentLifecycleState,
} from './clean/clean-shipments.ts';
import {
  CLEAN_TELEMETRY_STORES,
  CleanTelemetryProcessor,
  type CleanTelemetryOptions,
  type VehicleReorderState,
} from './clean/clean-telemetry.ts';
import {
  DELIVERY_EXAMPLES_STORES,
  DeliveryExamplesProcessor,
  type DeliveryExamplesOptions,
  type TripRecord,
} from './join/delivery-examples.ts';
import { KeyByVehicleProcessor, type RoutedShipmentChange } from './join/key-by-vehicle.ts';
import {
  SHIPMENT_STATE_STORES,
  ShipmentStateProcessor,
  type ShipmentJoinState,
  type ShipmentStateOptions,
  type VehicleReading,
} from './join/shipment-state.ts';
import { ETA_MODELS_STORE, type PublishedModelOptions } from './join/published-model-predictor.ts';
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
    .addStateStore({ name: CLEAN_TELEMETRY_STORES.seen, serdes: internal<number>() }, [
      'clean-telemetry',
    ])
    .addStateStore(
      { name: CLEAN_TELEMETRY_STORES.vehicles, serdes: internal<VehicleReorderState>() },
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
  deliveryExamples?: Partial<DeliveryExamplesOptions>;
}

/** The name of the repartition; its topic is `<app-id>-shipments-by-vehicle-repartition`. */
export const SHIPMENTS_BY_VEHICLE = 'shipments-by-vehicle';

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

export function shipmentStateTopology(opts: ShipmentStateTopologyOptions): Topology {
  const s = opts.serdes;
  const etaModels =
    opts.topics.etaModels !== undefined && s.etaModel !== undefined
      ? { topic: opts.topics.etaModels, serde: s.etaModel }
      : undefined;
  const builder = new TopologyBuilder(opts.applicationId ?? SHIPMENT_STATE_APP_ID)
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
      { name: CLEAN_SHIPMENTS_STORES.shipments, serdes: internal<ShipmentLifecycleState>() },
      ['clean-shipments'],
    )
    .addProcessor('key-by-vehicle', () => new KeyByVehicleProcessor(), ['clean-shipments'])
    .addRepartition(SHIPMENTS_BY_VEHICLE, internal<RoutedShipmentChange>(), ['key-by-vehicle'])
    .addSource(
      'telemetry-clean',
      opts.topics.telemetryClean,
      { key: stringSerde, value: s.telemetry },
      { timestampExtractor: telemetryEventTime },
    )
    .addProcessor(
      'shipment-state',
      () =>
        new ShipmentStateProcessor({
          ...opts.shipmentState,
          ...(etaModels ? { etaModels: { ...opts.etaModels, store: ETA_MODELS_STORE } } : {}),
        }),
      [SHIPMENTS_BY_VEHICLE, 'telemetry-clean'],
    )
    .addStateStore({ name: SHIPMENT_STATE_STORES.vehicleShipments, serdes: internal<string[]>() }, [
      'shipment-state',
    ])
    .addStateStore(
      { name: SHIPMENT_STATE_STORES.vehicleTelemetry, serdes: internal<VehicleReading>() },
      ['shipment-state'],
    )
    .addStateStore(
      { name: SHIPMENT_STATE_STORES.shipments, serdes: internal<ShipmentJoinState>() },
      ['shipment-state'],
    )
    .addSink(
      'shipment-state-out',
      opts.topics.shipmentState,
      { key: stringSerde, value: s.shipmentState },
      ['shipment-state'],
    )
    .addProcessor('delivery-examples', () => new DeliveryExamplesProcessor(opts.deliveryExamples), [
      'shipment-state',
    ])
    .addStateStore({ name: DELIVERY_EXAMPLES_STORES.trips, serdes: internal<TripRecord>() }, [
      'delivery-examples',
    ])
    .addSink(
      'deliveries-completed',
      opts.topics.deliveriesCompleted,
      { key: stringSerde, value: s.deliveryExample },
      ['delivery-examples'],
    );
  if (etaModels)
    builder.addGlobalStore(
      {
        name: ETA_MODELS_STORE,
        topic: etaModels.topic,
        serdes: { key: stringSerde, value: etaModels.serde },
      },
      ['shipment-state'],
    );
  return builder.build();
}
