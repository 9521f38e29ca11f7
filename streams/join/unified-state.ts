// The Unified Shipment State as a pure function of what it reflects: the shipment's latest
// change, the vehicle reading joined to it (if any) and the trip so far. The join and the
// router (for shipments no vehicle has taken yet) build states here, so the same inputs give
// the same state, field for field, whatever order they arrived in.
import type {
  Shipment,
  ShipmentStatus,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../schemas/types.ts';
import { roadDistanceKm } from '../geo.ts';
import type { RecordPosition } from '../lineage.ts';
import type { EtaPredictor } from './eta-predictor.ts';
import { tripFeatures } from './trip-features.ts';

/**
 * `version` = changeSeq × 2^43 + the event time (ms) of the reading the state shows (0 without
 * one). Every state a shipment goes through for one change shows a newer reading than the one
 * before (readings of a vehicle arrive in event-time order), and a new change outranks them
 * all, so versions rise strictly; and they are a function of the state's inputs, so a replay
 * or a burst gives the versions a live run gave. 2^43 ms reaches the year 2248; changeSeq
 * stays below MAX_CHANGE_SEQ so that versions are exact doubles (2^53).
 */
export const VERSION_STRIDE = 2 ** 43;
export const MAX_CHANGE_SEQ = 2 ** 10 - 1;

/** Statuses between pickup and arrival: distance travelled counts, an ETA is predicted. */
export const ON_TRIP: ReadonlySet<ShipmentStatus> = new Set([
  'PICKED_UP',
  'IN_TRANSIT',
  'OUT_FOR_DELIVERY',
  'EXCEPTION',
]);

/** A shipment change as the join keeps it: the row, where it was read, and its LSN. */
export interface JoinedChange {
  row: Shipment;
  /** The UnifiedShipmentState contract: 0 for snapshot reads. */
  commitLsn: number;
  /** Its position in shipments.cdc. */
  source: RecordPosition;
}

/** A clean reading with the position of the telemetry.raw record it was cleaned from. */
export interface VehicleReading {
  telemetry: VehicleTelemetry;
  source: RecordPosition;
}

/** What the trip so far contributes: when it started and the odometer then. */
export interface TripProgress {
  pickedUpAt: number | null;
  odometerAtPickupKm: number | null;
}

export function stateVersion(changeSeq: number, positionTime: number | null): number {
  return changeSeq * VERSION_STRIDE + (positionTime ?? 0);
}

export function positionKey(position: RecordPosition): string {
  return `${position.topic}-${position.partition}`;
}

export function unifiedShipmentState(
  change: JoinedChange,
  reading: VehicleReading | undefined,
  trip: TripProgress,
  predictor: EtaPredictor,
): UnifiedShipmentState {
  const s = change.row;
  const t = reading?.telemetry;
  const onTrip = ON_TRIP.has(s.status);
  const travelled =
    (onTrip || s.status === 'DELIVERED') && t && trip.odometerAtPickupKm !== null
      ? Math.max(0, t.odometerKm - trip.odometerAtPickupKm)
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
      ? predictor.predict({
          at: t.eventTime,
          ...tripFeatures({
            at: t.eventTime,
            pickedUpAt: trip.pickedUpAt ?? t.eventTime,
            distanceRemainingKm: remaining,
            distanceTravelledKm: travelled,
            speedKmh: t.speed,
          }),
        })
      : undefined;
  const sourceOffsets: Record<string, number> = {
    [positionKey(change.source)]: change.source.offset,
  };
  if (reading) sourceOffsets[positionKey(reading.source)] = reading.source.offset;
  return {
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
    version: stateVersion(s.changeSeq, t?.eventTime ?? null),
    sourceOffsets,
    sourceLsn: change.commitLsn,
    // The event time of the newest input the state reflects: how fresh the answer is.
    stateUpdatedAt: Math.max(s.updatedAt, t?.eventTime ?? Number.NEGATIVE_INFINITY),
  };
}

export function roundKm(km: number): number {
  return Math.round(km * 1000) / 1000;
}
