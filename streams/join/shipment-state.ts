// The join (key = vehicle id, or shipment id while unassigned): cleaned shipment changes ⋈ the
// latest clean telemetry of their vehicle, emitting one Unified Shipment State per active
// shipment of the vehicle on every input, keyed by shipment id.
import { isTerminal } from '../../schemas/shipment-lifecycle.ts';
import type {
  EtaModel,
  Shipment,
  ShipmentStatus,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../schemas/types.ts';
import { roadDistanceKm } from '../geo.ts';
import type { Processor, ProcessorContext } from '../runtime/processor.ts';
import type { StreamRecord } from '../runtime/record.ts';
import type { KeyValueStore } from '../runtime/state-store.ts';
import { BaselineEtaPredictor, type EtaPredictor } from './eta-predictor.ts';
import {
  PublishedModelEtaPredictor,
  type PublishedModelOptions,
} from './published-model-predictor.ts';
import type { RoutedShipmentChange } from './key-by-vehicle.ts';
import { tripFeatures } from './trip-features.ts';

export interface ShipmentStateOptions {
  /** Predicts when no published model serves (and always, without `etaModels`). */
  predictor: EtaPredictor;
  /** The global store of eta.models to serve published models from, and which one serves. */
  etaModels?: { store: string } & Partial<PublishedModelOptions>;
}

export const SHIPMENT_STATE_DEFAULTS: ShipmentStateOptions = {
  predictor: new BaselineEtaPredictor(),
};

export const SHIPMENT_STATE_STORES = {
  /** vehicle id → ids of its active shipments. */
  vehicleShipments: 'join-vehicle-shipments',
  /** vehicle id → its latest clean reading and where it was read. */
  vehicleTelemetry: 'join-vehicle-telemetry',
  /** shipment id → its latest row and what the join derived for it. */
  shipments: 'join-shipments',
} as const;

/**
 * `version` = changeSeq × VERSION_STRIDE + states emitted since that change. A shipment moves
 * between tasks when its key changes (unassigned → vehicle, vehicle → vehicle), and the new
 * task knows the change but not what the old task emitted; the changeSeq keeps the version
 * monotonic across the move (a plain counter would restart).
 */
export const VERSION_STRIDE = 1_000_000;

/** Statuses between pickup and arrival: distance travelled counts, an ETA is predicted. */
const ON_TRIP: ReadonlySet<ShipmentStatus> = new Set([
  'PICKED_UP',
  'IN_TRANSIT',
  'OUT_FOR_DELIVERY',
  'EXCEPTION',
]);

export interface SourceRef {
  /** `<topic>-<partition>` */
  partitionKey: string;
  offset: number;
}

export interface VehicleReading {
  telemetry: VehicleTelemetry;
  source: SourceRef;
}

export interface ShipmentJoinState {
  shipment: Shipment;
  commitLsn: number;
  source: SourceRef;
  /** Simulated time of the PICKED_UP change; null before pickup. */
  pickedUpAt: number | null;
  /** The vehicle's odometer at pickup (its first reading after pickup when none was known). */
  odometerAtPickupKm: number | null;
  emittedSinceChange: number;
}

type JoinInput = RoutedShipmentChange | VehicleTelemetry;

export class ShipmentStateProcessor implements Processor<
  string,
  JoinInput,
  string,
  UnifiedShipmentState
> {
  private readonly options: ShipmentStateOptions;
  private context!: ProcessorContext<string, UnifiedShipmentState>;
  private vehicleShipments!: KeyValueStore<string, string[]>;
  private vehicleTelemetry!: KeyValueStore<string, VehicleReading>;
  private shipments!: KeyValueStore<string, ShipmentJoinState>;
  private predictor!: EtaPredictor;

  constructor(options: Partial<ShipmentStateOptions> = {}) {
    this.options = { ...SHIPMENT_STATE_DEFAULTS, ...options };
  }

  init(context: ProcessorContext<string, UnifiedShipmentState>): void {
    this.context = context;
    this.vehicleShipments = context.getStateStore(SHIPMENT_STATE_STORES.vehicleShipments);
    this.vehicleTelemetry = context.getStateStore(SHIPMENT_STATE_STORES.vehicleTelemetry);
    this.shipments = context.getStateStore(SHIPMENT_STATE_STORES.shipments);
    const models = this.options.etaModels;
    this.predictor = models
      ? new PublishedModelEtaPredictor(
          context.getGlobalStore<string, EtaModel>(models.store),
          this.options.predictor,
          models,
        )
      : this.options.predictor;
  }

  process(record: StreamRecord<string, JoinInput>): void {
    const value = record.value;
    if ('kind' in value) this.onChange(record.key, value, record.timestamp);
    else this.onTelemetry(record.key, value, record.timestamp);
  }

  private onTelemetry(vehicleId: string, telemetry: VehicleTelemetry, timestamp: number): void {
    const known = this.vehicleTelemetry.get(vehicleId);
    // telemetry.clean is in event-time order per vehicle; an older reading changes nothing.
    if (known && telemetry.eventTime < known.telemetry.eventTime) return;
    const meta = this.context.recordMetadata;
    const reading: VehicleReading = {
      telemetry,
      source: {
        partitionKey: `${meta?.topic ?? ''}-${meta?.partition ?? this.context.partition}`,
        offset: Number(meta?.offset ?? -1),
      },
    };
    this.vehicleTelemetry.put(vehicleId, reading);
    for (const shipmentId of this.vehicleShipments.get(vehicleId) ?? []) {
      const stored = this.shipments.get(shipmentId);
      if (!stored) continue;
      // A copy: changing a stored object in place would escape the store's rollback on abort.
      const state = { ...stored };
      if (state.odometerAtPickupKm === null && state.pickedUpAt !== null)
        state.odometerAtPickupKm = telemetry.odometerKm;
      this.emit(state, reading, timestamp);
      this.shipments.put(shipmentId, state);
    }
  }

  private onChange(key: string, routed: RoutedShipmentChange, timestamp: number): void {
    const { change } = routed;
    const row = change.after ?? change.before;
    if (!row) return;
    if (routed.kind === 'detach') {
      this.forget(key, row.shipmentId, row.changeSeq);
      return;
    }
    const after = change.after;
    if (!after) return;
    const previous = this.shipments.get(after.shipmentId);
    const reading = after.vehicleId ? this.vehicleTelemetry.get(after.vehicleId) : undefined;
    const pickedUpNow = after.status === 'PICKED_UP' && previous?.shipment.status !== 'PICKED_UP';
    const state: ShipmentJoinState = {
      shipment: after,
      // The UnifiedShipmentState contract: 0 for snapshot reads.
      commitLsn: change.source.snapshot ? 0 : change.source.commitLsn,
      source: {
        partitionKey: `${routed.source.topic}-${routed.source.partition}`,
        offset: routed.source.offset,
      },
      pickedUpAt: pickedUpNow ? after.updatedAt : (previous?.pickedUpAt ?? null),
      odometerAtPickupKm: pickedUpNow
        ? (reading?.telemetry.odometerKm ?? null)
        : (previous?.odometerAtPickupKm ?? null),
      emittedSinceChange: 0,
    };
    // A shipment that was already on its trip when we first heard of it (snapshot, or a
    // topic read from the middle): its trip clock starts now.
    if (state.pickedUpAt === null && ON_TRIP.has(after.status)) {
      state.pickedUpAt = after.updatedAt;
      state.odometerAtPickupKm = reading?.telemetry.odometerKm ?? null;
    }
    this.emit(state, reading, timestamp);

    const vehicleId = after.vehicleId;
    if (isTerminal(after.status) || vehicleId === null) {
      // Unassigned shipments get no telemetry, so nothing needs keeping between changes.
      this.forget(key, after.shipmentId, Number.POSITIVE_INFINITY);
      return;
    }
    this.shipments.put(after.shipmentId, state);
    const active = this.vehicleShipments.get(vehicleId) ?? [];
    if (!active.includes(after.shipmentId))
      this.vehicleShipments.put(vehicleId, [...active, after.shipmentId]);
  }

  /** Drops the shipment from `key`'s active set unless a newer change re-attached it here. */
  private forget(key: string, shipmentId: string, upToChangeSeq: number): void {
    const state = this.shipments.get(shipmentId);
    if (state && state.shipment.changeSeq > upToChangeSeq) return;
    this.shipments.delete(shipmentId);
    const active = this.vehicleShipments.get(key);
    if (!active?.includes(shipmentId)) return;
    const rest = active.filter((id) => id !== shipmentId);
    if (rest.length > 0) this.vehicleShipments.put(key, rest);
    else this.vehicleShipments.delete(key);
  }

  private emit(
    state: ShipmentJoinState,
    reading: VehicleReading | undefined,
    timestamp: number,
  ): void {
    const s = state.shipment;
    const t = reading?.telemetry;
    const onTrip = ON_TRIP.has(s.status);
    const travelled =
      (onTrip || s.status === 'DELIVERED') && t && state.odometerAtPickupKm !== null
        ? Math.max(0, t.odometerKm - state.odometerAtPickupKm)
        : 0;
    const destination = { lat: s.destinationLat, lon: s.destinationLon };
    const remaining =
      s.status === 'DELIVERED'
        ? 0
        : onTrip && t
          ? roadDistanceKm(t, destination)
          : roadDistanceKm({ lat: s.originLat, lon: s.originLon }, destination);
    const prediction =
      onTrip && t
        ? this.predictor.predict({
            at: t.eventTime,
            ...tripFeatures({
              at: t.eventTime,
              pickedUpAt: state.pickedUpAt ?? t.eventTime,
              distanceRemainingKm: remaining,
              distanceTravelledKm: travelled,
              speedKmh: t.speed,
            }),
          })
        : undefined;
    const sourceOffsets: Record<string, number> = {
      [state.source.partitionKey]: state.source.offset,
    };
    if (reading) sourceOffsets[reading.source.partitionKey] = reading.source.offset;

    const value: UnifiedShipmentState = {
      shipmentId: s.shipmentId,
      customerId: s.customerId,
      originId: s.originId,
      destinationId: s.destinationId,
      status: s.status,
      promisedAt: s.promisedAt,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      vehicleId: s.vehicleId,
      lat: t?.lat ?? null,
      lon: t?.lon ?? null,
      positionTime: t?.eventTime ?? null,
      speedKmh: t?.speed ?? null,
      fuelPct: t?.fuelPct ?? null,
      engineTempC: t?.engineTemp ?? null,
      distanceTravelledKm: roundKm(travelled),
      distanceRemainingKm: roundKm(remaining),
      predictedArrival: prediction?.arrival ?? null,
      predictionLow: prediction?.low ?? null,
      predictionHigh: prediction?.high ?? null,
      modelVersion: prediction?.modelVersion ?? null,
      version: s.changeSeq * VERSION_STRIDE + state.emittedSinceChange,
      sourceOffsets,
      sourceLsn: state.commitLsn,
      stateUpdatedAt: timestamp,
    };
    state.emittedSinceChange += 1;
    this.context.forward({ key: s.shipmentId, value, timestamp });
  }
}

function roundKm(km: number): number {
  return Math.round(km * 1000) / 1000;
}
