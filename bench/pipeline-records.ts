// Input of the pipeline benchmark: a fleet simulated in memory (seeder/) turned into what the
// sources write — ShipmentChange records as the CDC source emits them and VehicleTelemetry as the
// SDK sends it (faults included) — plus the fixtures of the freshness run.
import { SIMULATION_DEFAULTS, Simulation } from '../seeder/simulation.ts';
import { MemoryShipmentStore, MemoryTelemetrySink } from '../seeder/memory-ports.ts';
import type { ShipmentWrite } from '../seeder/shipment-store.ts';
import type { Shipment, ShipmentChange, VehicleTelemetry } from '../schemas/types.ts';

/** One input record before encoding: which input topic, its key and the record time. */
export type PipelineInput =
  | { kind: 'telemetry'; key: string; timestamp: number; event: VehicleTelemetry }
  /** Bytes the simulator sends as-is (its malformed-record faults): they end up dead-lettered. */
  | { kind: 'telemetry-raw'; key: string; timestamp: number; bytes: Buffer }
  | { kind: 'shipment-change'; key: string; timestamp: number; change: ShipmentChange };

export const PIPELINE_INPUT_DEFAULTS = {
  seed: 7,
  // A mid-size fleet: a fetched batch holds readings of many vehicles, as in production, so
  // stores and changelogs see as many distinct keys per transaction as they would there.
  vehicles: 2_000,
  /** One shipment per this many telemetry readings, so shipments keep arriving for the run. */
  readingsPerShipment: 80,
};

const SOURCE_TABLE = 'public.shipments';

/**
 * Turns the simulator's store writes (one array per committed transaction) into the changes the
 * PostgreSQL source would publish: INSERT/UPDATE with before and after images and a WAL
 * position that grows with every change, all changes of a transaction sharing its commit LSN.
 */
export function toShipmentChanges(
  transactions: readonly (readonly ShipmentWrite[])[],
): ShipmentChange[] {
  const rows = new Map<string, Shipment>();
  const changes: ShipmentChange[] = [];
  let lsn = 0x1_000_000;
  let txId = 1_000;
  for (const writes of transactions) {
    const rowWrites = writes.filter((w) => w.op !== 'ground-truth');
    if (rowWrites.length === 0) continue;
    txId += 1;
    const commitLsn = lsn + (rowWrites.length + 1) * 64;
    for (const w of rowWrites) {
      lsn += 64;
      const before = rows.get(w.shipment.shipmentId) ?? null;
      const after: Shipment = { ...w.shipment };
      rows.set(after.shipmentId, after);
      changes.push({
        op: w.op === 'insert' ? 'INSERT' : 'UPDATE',
        before: w.op === 'insert' ? null : before,
        after,
        source: { lsn, commitLsn, txId, table: SOURCE_TABLE, snapshot: false },
        commitTime: after.updatedAt,
      });
    }
    lsn = commitLsn;
  }
  return changes;
}

/**
 * About `records` input records (telemetry, raw telemetry faults and shipment changes) from a
 * bounded simulation of the default world, in simulated-time order per kind.
 */
export async function simulatePipelineInput(
  records: number,
  options: Partial<typeof PIPELINE_INPUT_DEFAULTS> = {},
  /** Wall-clock time the simulated run ends at. */
  now = Date.now(),
): Promise<PipelineInput[]> {
  const o = { ...PIPELINE_INPUT_DEFAULTS, ...options };
  const interval = SIMULATION_DEFAULTS.telemetryIntervalMs;
  const ticks = Math.max(1, Math.ceil(records / o.vehicles));
  // Event times (and so record timestamps) end now: records stamped months ago, as the
  // simulator's fixed start would make them, fall to the broker's time retention mid-run.
  const startTime = now - (ticks + 1) * interval;
  const store = new MemoryShipmentStore();
  const sink = new MemoryTelemetrySink();
  const simulation = new Simulation(
    {
      ...SIMULATION_DEFAULTS,
      seed: o.seed,
      startTime,
      vehicles: o.vehicles,
      durationMs: ticks * interval,
      shipments: Math.max(o.vehicles, Math.round(records / o.readingsPerShipment)),
      stopWhenDone: false,
    },
    { store, sink },
  );
  await simulation.run();
  const inputs: PipelineInput[] = [];
  let lastEventTime = startTime;
  for (const sent of sink.sent) {
    if (sent.kind === 'event') {
      lastEventTime = sent.event.eventTime;
      inputs.push({
        kind: 'telemetry',
        key: sent.event.vehicleId,
        timestamp: sent.event.eventTime,
        event: sent.event,
      });
    } else
      inputs.push({
        kind: 'telemetry-raw',
        key: sent.key,
        timestamp: lastEventTime,
        bytes: sent.value,
      });
  }
  for (const change of toShipmentChanges(store.batches)) {
    const key = change.after?.shipmentId ?? change.before?.shipmentId ?? '';
    inputs.push({ kind: 'shipment-change', key, timestamp: change.commitTime, change });
  }
  // Simulated-time order across both kinds, so a cut keeps the mix of the whole run.
  return inputs
    .map((input, i) => ({ input, i }))
    .sort((a, b) => a.input.timestamp - b.input.timestamp || a.i - b.i)
    .slice(0, Math.max(records, 1))
    .map(({ input }) => input);
}

/** Moving at 50 km/h due north: readings this close in time never look like a GPS jump. */
const DEGREES_PER_MS = 50 / 111.2 / 3_600_000;

export function freshnessVehicleId(i: number): string {
  return `BENCH-VEH-${String(i).padStart(4, '0')}`;
}

/** The shipment in transit on freshness vehicle `i`. */
export function freshnessShipmentId(i: number): string {
  return `BENCH-SHP-${String(i).padStart(4, '0')}`;
}

/**
 * One shipment per vehicle, created, assigned, picked up and in transit: after these the join
 * emits one shipment.state record for every reading of the vehicle.
 */
export function freshnessShipments(vehicles: number, at: number): ShipmentChange[] {
  const writes: ShipmentWrite[][] = [];
  for (let i = 0; i < vehicles; i++) {
    const vehicleId = freshnessVehicleId(i);
    const row: Shipment = {
      shipmentId: freshnessShipmentId(i),
      customerId: `C-${i % 40}`,
      originId: 'DEPOT-CGN',
      originLat: 50.9375,
      originLon: 6.9603,
      destinationId: 'DUS',
      destinationLat: 51.2277,
      destinationLon: 6.7735,
      vehicleId: null,
      status: 'CREATED',
      weightKg: 100 + i,
      promisedAt: at + 4 * 3_600_000,
      createdAt: at,
      updatedAt: at,
      changeSeq: 1,
    };
    writes.push([{ op: 'insert', shipment: row }]);
    let previous = row;
    for (const status of ['ASSIGNED', 'PICKED_UP', 'IN_TRANSIT'] as const) {
      const next: Shipment = {
        ...previous,
        status,
        vehicleId,
        updatedAt: previous.updatedAt + 1,
        changeSeq: previous.changeSeq + 1,
      };
      writes.push([{ op: 'update', shipment: next, previousStatus: previous.status }]);
      previous = next;
    }
  }
  return toShipmentChanges(writes);
}

/**
 * Event times that rise strictly per vehicle: the wall clock, or 1 ms past the vehicle's last
 * reading when that is not earlier. A paced feed that fell behind (its event loop held for
 * longer than a fleet cycle) sends what it owes at once, all stamped with one `now`; a vehicle
 * could then get two readings of the same event time, and the join drops the second as a
 * redelivery (`stale-reading`): the freshness row waited for shipment.state records that
 * correctly never came.
 */
export class VehicleEventClock {
  private readonly last = new Map<number, number>();

  /** The event time of vehicle `vehicle`'s next reading, stamped at wall clock `now`. */
  next(vehicle: number, now: number): number {
    const previous = this.last.get(vehicle);
    const time = previous !== undefined && previous >= now ? previous + 1 : now;
    this.last.set(vehicle, time);
    return time;
  }
}

/** A reading of vehicle `i` at wall-clock `eventTime`, positioned by time since `origin`. */
export function freshnessReading(
  i: number,
  seq: number,
  eventTime: number,
  origin: number,
): VehicleTelemetry {
  return {
    eventId: `bench-${i}-${seq}`,
    vehicleId: freshnessVehicleId(i),
    eventTime,
    lat: 50.9375 + (eventTime - origin) * DEGREES_PER_MS,
    lon: 6.9603,
    speed: 50,
    speedUnit: 'KMH',
    headingDeg: 0,
    fuelPct: 60,
    engineTemp: 90,
    temperatureUnit: 'CELSIUS',
    odometerKm: 10_000 + ((eventTime - origin) * 50) / 3_600_000,
  };
}

/**
 * The vehicle of fleet reading `seq`: round-robin over vehicles `reserved` … `vehicles − 1`.
 * The vehicles below `reserved` are left to the caller (the api-lookup benchmark's freshness
 * probes), so nothing else moves their state while a probe waits to see its reading.
 */
export function fleetVehicle(seq: number, vehicles: number, reserved = 0): number {
  const others = vehicles - reserved;
  if (others < 1)
    throw new RangeError(`no fleet vehicles: ${vehicles} vehicles, ${reserved} reserved`);
  return reserved + (seq % others);
}
