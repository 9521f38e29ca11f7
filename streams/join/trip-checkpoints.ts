// Training data for the ETA model, from event time only: a trip's checkpoints are the vehicle's
// clean readings from pickup on, the first one at or after pickup and then the first one at
// least `checkpointIntervalMs` after the previous checkpoint; on delivery, those up to the
// delivery are labelled with the minutes that were left. Readings of a vehicle arrive in event
// order, so the same readings give the same checkpoints whether they came before or after the
// pickup was known (the join then takes them from its reading history).
import type { DeliveryCheckpoint, DeliveryExample, Shipment } from '../../schemas/types.ts';
import { roadDistanceKm } from '../geo.ts';
import { tripFeatures } from './trip-features.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';

export interface TripCheckpointOptions {
  /** Event time between two checkpoints of a trip. */
  checkpointIntervalMs: number;
}

export const TRIP_CHECKPOINT_DEFAULTS: TripCheckpointOptions = {
  checkpointIntervalMs: 5 * 60_000,
};

export type UnlabelledCheckpoint = Omit<DeliveryCheckpoint, 'minutesToArrival'>;

/** A trip being recorded (store `join-trips`): written only when a checkpoint is added. */
export interface TripRecord {
  vehicleId: string;
  pickedUpAt: number;
  checkpoints: UnlabelledCheckpoint[];
}

/** Why a delivery gave no training example (the skip metric's `reason`). */
export type ExampleSkipReason = 'no-readings' | 'no-trip' | 'reassigned';

/**
 * The checkpoint `reading` makes on `trip`, or undefined when it makes none (before pickup, or
 * sooner than the interval after the last one).
 */
export function checkpointAt(
  trip: TripRecord,
  reading: VehicleTelemetry,
  shipment: Shipment,
  odometerAtPickupKm: number | null,
  options: TripCheckpointOptions,
): UnlabelledCheckpoint | undefined {
  const at = reading.eventTime;
  if (at < trip.pickedUpAt) return undefined;
  const last = trip.checkpoints.at(-1);
  if (last && at - last.checkpointTime < options.checkpointIntervalMs) return undefined;
  return {
    checkpointTime: at,
    ...tripFeatures({
      at,
      pickedUpAt: trip.pickedUpAt,
      distanceRemainingKm: roadDistanceKm(reading, {
        lat: shipment.destinationLat,
        lon: shipment.destinationLon,
      }),
      distanceTravelledKm:
        odometerAtPickupKm === null ? 0 : Math.max(0, reading.odometerKm - odometerAtPickupKm),
      speedKmh: reading.speed,
    }),
  };
}

/**
 * The example of a delivered trip: its checkpoints up to the arrival, labelled; or why there
 * is none (a trip without readings is never sent out as an empty example).
 */
export function deliveryExample(
  delivered: Shipment,
  trip: TripRecord | undefined,
): DeliveryExample | ExampleSkipReason {
  if (!trip || delivered.vehicleId === null) return 'no-trip';
  // The DELIVERED row's business time is when the goods arrived.
  const actualArrival = delivered.updatedAt;
  const checkpoints = trip.checkpoints
    .filter((c) => c.checkpointTime <= actualArrival)
    .map((c) => ({ ...c, minutesToArrival: (actualArrival - c.checkpointTime) / 60_000 }));
  if (checkpoints.length === 0) return 'no-readings';
  return {
    shipmentId: delivered.shipmentId,
    vehicleId: trip.vehicleId,
    originId: delivered.originId,
    destinationId: delivered.destinationId,
    promisedAt: delivered.promisedAt,
    actualArrival,
    checkpoints,
  };
}
