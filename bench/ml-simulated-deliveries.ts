// Training examples without Kafka: the fleet simulator in memory, and every delivered shipment
// turned into the DeliveryExample the join would write, with the join's own checkpoint rule
// (streams/join/trip-checkpoints.ts), so the features are the ones the join serves. Labels come
// from the simulator's ground truth (its arrival time), not from the shipment rows.
import type { TelemetrySink } from '../connectors/telemetry-sdk/telemetry-sink.ts';
import type { DeliveryExample, Shipment, VehicleTelemetry } from '../schemas/types.ts';
import type { GroundTruth, ShipmentStore, ShipmentWrite } from '../seeder/shipment-store.ts';
import { NO_FAULTS } from '../seeder/faults.ts';
import { SIMULATION_DEFAULTS, Simulation, type SimulationOptions } from '../seeder/simulation.ts';
import {
  checkpointAt,
  deliveryExample,
  TRIP_CHECKPOINT_DEFAULTS,
  type TripRecord,
} from '../streams/join/trip-checkpoints.ts';

interface OpenTrip {
  trip: TripRecord;
  odometerAtPickupKm: number | null;
}

/**
 * Follows the simulator's writes and readings as the join follows shipments.cdc and
 * telemetry.clean: the simulator writes a tick's changes before the tick's readings, and its
 * readings of a vehicle come in event-time order (faults off), which is the order the join sees.
 */
export class DeliveryExampleRecorder implements ShipmentStore, TelemetrySink {
  readonly examples: DeliveryExample[] = [];
  readonly groundTruth = new Map<string, GroundTruth>();
  private readonly rows = new Map<string, Shipment>();
  private readonly lastReading = new Map<string, VehicleTelemetry>();
  /** vehicle id → shipment id of its open trip. */
  private readonly tripOfVehicle = new Map<string, string>();
  private readonly trips = new Map<string, OpenTrip>();
  private readonly checkpointIntervalMs: number;

  constructor(checkpointIntervalMs = TRIP_CHECKPOINT_DEFAULTS.checkpointIntervalMs) {
    this.checkpointIntervalMs = checkpointIntervalMs;
  }

  write(batch: readonly ShipmentWrite[]): Promise<void> {
    for (const w of batch) {
      if (w.op === 'ground-truth') {
        this.groundTruth.set(w.truth.shipmentId, w.truth);
        continue;
      }
      const row = w.shipment;
      this.rows.set(row.shipmentId, row);
      if (w.op !== 'update' || row.vehicleId === null) continue;
      if (row.status === 'PICKED_UP') {
        // The join's odometer at pickup: the vehicle's last reading at or before it.
        const last = this.lastReading.get(row.vehicleId);
        this.trips.set(row.shipmentId, {
          trip: { vehicleId: row.vehicleId, pickedUpAt: row.updatedAt, checkpoints: [] },
          odometerAtPickupKm: last?.odometerKm ?? null,
        });
        this.tripOfVehicle.set(row.vehicleId, row.shipmentId);
      } else if (row.status === 'DELIVERED' || row.status === 'CANCELLED') {
        const open = this.trips.get(row.shipmentId);
        this.trips.delete(row.shipmentId);
        this.tripOfVehicle.delete(row.vehicleId);
        if (row.status === 'DELIVERED') {
          const example = deliveryExample(row, open?.trip);
          if (typeof example !== 'string') this.examples.push(example);
        }
      }
    }
    return Promise.resolve();
  }

  send(reading: VehicleTelemetry): Promise<void> {
    this.lastReading.set(reading.vehicleId, reading);
    const shipmentId = this.tripOfVehicle.get(reading.vehicleId);
    const open = shipmentId === undefined ? undefined : this.trips.get(shipmentId);
    const row = shipmentId === undefined ? undefined : this.rows.get(shipmentId);
    if (!open || !row) return Promise.resolve();
    // With no reading before pickup, the join takes the first one after it.
    open.odometerAtPickupKm ??= reading.odometerKm;
    const checkpoint = checkpointAt(open.trip, reading, row, open.odometerAtPickupKm, {
      checkpointIntervalMs: this.checkpointIntervalMs,
    });
    if (checkpoint) open.trip.checkpoints.push(checkpoint);
    return Promise.resolve();
  }

  sendRaw(): Promise<void> {
    return Promise.resolve();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface SimulatedDeliveriesOptions {
  seed: number;
  vehicles: number;
  /** Stop once the examples hold at least this many checkpoints. */
  checkpoints: number;
  /** Simulated shipments per hour (kept below what the fleet delivers, so none waits for ever). */
  shipmentsPerHour: number;
  telemetryIntervalMs: number;
}

export const SIMULATED_DELIVERIES_DEFAULTS: SimulatedDeliveriesOptions = {
  seed: 11,
  vehicles: 60,
  checkpoints: 10_000,
  shipmentsPerHour: 14,
  telemetryIntervalMs: 10_000,
};

/**
 * Delivery examples of a simulated fleet, oldest delivery first, labelled with the simulator's
 * true arrival (ground truth), until they hold `checkpoints` checkpoints.
 */
export async function simulatedDeliveries(
  options: Partial<SimulatedDeliveriesOptions> = {},
): Promise<DeliveryExample[]> {
  const o = { ...SIMULATED_DELIVERIES_DEFAULTS, ...options };
  const recorder = new DeliveryExampleRecorder();
  const abort = new AbortController();
  let checkpoints = 0;
  let counted = 0;
  const sink: TelemetrySink = {
    send: async (reading) => {
      await recorder.send(reading);
      for (; counted < recorder.examples.length; counted++)
        checkpoints += recorder.examples[counted]?.checkpoints.length ?? 0;
      if (checkpoints >= o.checkpoints) abort.abort();
    },
    sendRaw: () => recorder.sendRaw(),
    flush: () => recorder.flush(),
    close: () => recorder.close(),
  };
  const simulation: SimulationOptions = {
    ...SIMULATION_DEFAULTS,
    seed: o.seed,
    vehicles: o.vehicles,
    customers: 60,
    shipments: undefined,
    shipmentsPerHour: o.shipmentsPerHour,
    telemetryIntervalMs: o.telemetryIntervalMs,
    stopWhenDone: false,
    // Long enough for any requested count; the run stops when it has them.
    durationMs: 5 * 365 * 86_400_000,
    faults: NO_FAULTS,
  };
  await new Simulation(simulation, { store: recorder, sink, signal: abort.signal }).run();
  return recorder.examples.map((example) => {
    const truth = recorder.groundTruth.get(example.shipmentId);
    if (truth?.arrivedAt == null) return example;
    // The label is the ground truth's arrival (the DELIVERED row carries the same instant).
    const arrival = truth.arrivedAt;
    return {
      ...example,
      actualArrival: arrival,
      checkpoints: example.checkpoints.map((c) => ({
        ...c,
        minutesToArrival: (arrival - c.checkpointTime) / 60_000,
      })),
    };
  });
}
