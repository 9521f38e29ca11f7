// Training data for the ETA model: follows the join's shipment states, takes a checkpoint of
// the trip features every `checkpointIntervalMs` of event time while on the trip, and on
// DELIVERED writes a DeliveryExample whose checkpoints are labelled with minutes to arrival.
import type {
  DeliveryCheckpoint,
  DeliveryExample,
  ShipmentStatus,
  UnifiedShipmentState,
} from '../../schemas/types.ts';
import type { Processor, ProcessorContext } from '../runtime/processor.ts';
import type { StreamRecord } from '../runtime/record.ts';
import type { KeyValueStore } from '../runtime/state-store.ts';
import { tripFeatures } from './trip-features.ts';

export interface DeliveryExamplesOptions {
  /** Event time between two checkpoints of a trip. */
  checkpointIntervalMs: number;
}

export const DELIVERY_EXAMPLES_DEFAULTS: DeliveryExamplesOptions = {
  checkpointIntervalMs: 5 * 60_000,
};

export const DELIVERY_EXAMPLES_STORES = {
  /** shipment id → the trip so far. */
  trips: 'delivery-trips',
} as const;

export interface TripRecord {
  vehicleId: string;
  pickedUpAt: number;
  /** Unlabelled: `minutesToArrival` is filled in when the shipment is delivered. */
  checkpoints: Omit<DeliveryCheckpoint, 'minutesToArrival'>[];
}

const ON_TRIP: ReadonlySet<ShipmentStatus> = new Set([
  'PICKED_UP',
  'IN_TRANSIT',
  'OUT_FOR_DELIVERY',
  'EXCEPTION',
]);

export class DeliveryExamplesProcessor implements Processor<
  string,
  UnifiedShipmentState,
  string,
  DeliveryExample
> {
  private readonly options: DeliveryExamplesOptions;
  private context!: ProcessorContext<string, DeliveryExample>;
  private trips!: KeyValueStore<string, TripRecord>;

  constructor(options: Partial<DeliveryExamplesOptions> = {}) {
    this.options = { ...DELIVERY_EXAMPLES_DEFAULTS, ...options };
  }

  init(context: ProcessorContext<string, DeliveryExample>): void {
    this.context = context;
    this.trips = context.getStateStore(DELIVERY_EXAMPLES_STORES.trips);
  }

  process(record: StreamRecord<string, UnifiedShipmentState>): void {
    const state = record.value;
    const id = state.shipmentId;
    if (state.status === 'DELIVERED') {
      const trip = this.trips.get(id);
      this.trips.delete(id);
      if (trip && state.vehicleId !== null) this.deliver(state, trip, record.timestamp);
      return;
    }
    if (!ON_TRIP.has(state.status) || state.vehicleId === null) {
      // Cancelled (or not yet picked up): no example to learn from.
      if (this.trips.get(id)) this.trips.delete(id);
      return;
    }
    const stored = this.trips.get(id);
    // A copy: changing a stored object in place would escape the store's rollback on abort.
    const trip: TripRecord = stored
      ? { ...stored, checkpoints: [...stored.checkpoints] }
      : { vehicleId: state.vehicleId, pickedUpAt: state.updatedAt, checkpoints: [] };
    const at = state.positionTime;
    const last = trip.checkpoints.at(-1);
    if (
      at !== null &&
      state.speedKmh !== null &&
      at >= trip.pickedUpAt &&
      (!last || at - last.checkpointTime >= this.options.checkpointIntervalMs)
    ) {
      trip.checkpoints.push({
        checkpointTime: at,
        ...tripFeatures({
          at,
          pickedUpAt: trip.pickedUpAt,
          distanceRemainingKm: state.distanceRemainingKm,
          distanceTravelledKm: state.distanceTravelledKm,
          speedKmh: state.speedKmh,
        }),
      });
      this.trips.put(id, trip);
    } else if (!stored) {
      this.trips.put(id, trip);
    }
  }

  private deliver(state: UnifiedShipmentState, trip: TripRecord, timestamp: number): void {
    // The DELIVERED row's business time is when the goods arrived.
    const actualArrival = state.updatedAt;
    const example: DeliveryExample = {
      shipmentId: state.shipmentId,
      vehicleId: trip.vehicleId,
      originId: state.originId,
      destinationId: state.destinationId,
      promisedAt: state.promisedAt,
      actualArrival,
      checkpoints: trip.checkpoints
        .filter((c) => c.checkpointTime <= actualArrival)
        .map((c) => ({ ...c, minutesToArrival: (actualArrival - c.checkpointTime) / 60_000 })),
    };
    this.context.forward({ key: state.shipmentId, value: example, timestamp });
  }
}
