// The discrete-event fleet simulation in simulated time: shipments arrive, are dispatched to the
// nearest idle vehicle, picked up, driven and delivered (or delayed, or cancelled); vehicles
// report telemetry every interval; faults are injected; the ground truth of each finished
// shipment is recorded. Time advances in telemetry ticks; changes inside a tick keep their
// exact times and one tick's changes go to the store in one transaction.
import type { TelemetrySink } from '../connectors/telemetry-sdk/telemetry-sink.ts';
import { ContinuumError } from '../core/errors.ts';
import type { Shipment, ShipmentStatus, VehicleTelemetry } from '../schemas/types.ts';
import {
  FAULT_DEFAULTS,
  injectFaults,
  truncateEncoding,
  type FaultContext,
  type FaultOptions,
  type Outbound,
} from './faults.ts';
import { Random } from './random.ts';
import { isAllowedTransition, isTerminal } from '../schemas/shipment-lifecycle.ts';
import type { GroundTruth, ShipmentStore, ShipmentWrite } from './shipment-store.ts';
import { SeedStatistics, type SeedStatisticsSnapshot } from './statistics.ts';
import { round } from './units.ts';
import {
  drivingLiters,
  drivingSpeedKmh,
  engineLoad,
  engineTempAfter,
  idleLiters,
  nextCongestion,
  AMBIENT_CELSIUS,
} from './vehicle-model.ts';
import {
  bearingDeg,
  buildWorld,
  CITIES,
  haversineKm,
  planRoute,
  positionAt,
  roadClassAt,
  type Customer,
  type Depot,
  type Place,
  type Route,
  type VehicleSpec,
  type World,
} from './world.ts';

export interface SimulationOptions {
  seed: number;
  /** Epoch ms of simulated time zero. */
  startTime: number;
  /** Simulated time the run may last at most. */
  durationMs: number;
  /** Shipments to create in total; undefined creates them for as long as the run lasts. */
  shipments: number | undefined;
  /** Simulated arrival rate; undefined: `shipments` spread over the first half of the duration. */
  shipmentsPerHour: number | undefined;
  vehicles: number;
  customers: number;
  telemetryIntervalMs: number;
  /** Probability that a shipment is cancelled before pickup. */
  cancelRate: number;
  /** Probability that a shipment hits an exception (a delay) in transit. */
  exceptionRate: number;
  /** Probability that a shipment resumes after its exception (else it is cancelled). */
  exceptionResumeRate: number;
  /** Ends the run as soon as every shipment is DELIVERED or CANCELLED (bounded runs). */
  stopWhenDone: boolean;
  faults: FaultOptions;
}

export const SIMULATION_DEFAULTS: SimulationOptions = {
  seed: 1,
  // A Monday 05:00 UTC: the first shipments meet the morning rush hour.
  startTime: Date.UTC(2026, 0, 5, 5, 0, 0),
  durationMs: 6 * 3_600_000,
  shipments: 100,
  shipmentsPerHour: undefined,
  vehicles: 20,
  customers: 40,
  telemetryIntervalMs: 10_000,
  cancelRate: 0.03,
  exceptionRate: 0.05,
  exceptionResumeRate: 0.75,
  stopWhenDone: true,
  faults: FAULT_DEFAULTS,
};

/** Maps simulated time to wall time in live runs; bounded runs have none and go flat out. */
export interface Pacer {
  waitUntil(simulatedTime: number, signal?: AbortSignal): Promise<void>;
}

export interface SimulationPorts {
  store: ShipmentStore;
  sink: TelemetrySink;
  /** The sink's real encoding of an event, to make truncated records from (optional). */
  encode?: (event: VehicleTelemetry) => Promise<Buffer>;
  pacer?: Pacer;
  signal?: AbortSignal;
}

export interface SimulationResult {
  statistics: SeedStatisticsSnapshot;
  /** Final row of every shipment created, as the store should hold it. */
  shipments: Shipment[];
  groundTruth: GroundTruth[];
}

export class SimulationError extends ContinuumError {
  override readonly code = 'SIMULATION_FAILED';
}

type Phase =
  'idle' | 'to-pickup' | 'loading' | 'departing' | 'delivering' | 'exception' | 'unloading';

interface ShipmentState {
  row: Shipment;
  cancelAt: number | undefined;
  /** Planned at creation; placed along the route when the trip starts. */
  exceptionPlanned: boolean;
  exceptionCount: number;
  pickedUpAt: number | null;
  routeKm: number | null;
}

interface VehicleState {
  spec: VehicleSpec;
  place: Place;
  lat: number;
  lon: number;
  headingDeg: number;
  speedKmh: number;
  fuelLiters: number;
  engineTemp: number;
  engineOn: boolean;
  odometerKm: number;
  congestion: number;
  phase: Phase;
  phaseEndsAt: number;
  shipment: ShipmentState | undefined;
  route: Route | undefined;
  travelledKm: number;
  outForDeliveryAtKm: number;
  exceptionAtKm: number | undefined;
  stopUntil: number | undefined;
  stopIsRefuel: boolean;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Refuel below this share of the tank: a driver does not gamble on the last drops. */
const REFUEL_BELOW = 0.15;
/** Within this distance of the destination (or 30 % of a short trip) a shipment is out for delivery. */
const OUT_FOR_DELIVERY_KM = 15;

export class Simulation {
  readonly options: SimulationOptions;
  readonly world: World;
  readonly statistics = new SeedStatistics();
  private readonly ports: SimulationPorts;
  private readonly rngShipments: Random;
  private readonly rngDynamics: Random;
  private readonly rngIds: Random;
  private readonly faultContext: FaultContext;
  private readonly vehicles: VehicleState[];
  private readonly shipments = new Map<string, ShipmentState>();
  private readonly pending: ShipmentState[] = [];
  private readonly cancellations: ShipmentState[] = [];
  private readonly groundTruth: GroundTruth[] = [];
  private held: { out: Outbound; seq: number }[] = [];
  private heldSeq = 0;
  private batch: ShipmentWrite[] = [];
  private nextCreationAt: number;
  /** Planned creation times of a bounded run, latest first (popped from the end). */
  private plannedCreations: number[] | undefined;
  private created = 0;
  /** Shipments not yet DELIVERED or CANCELLED (kept, not recounted, so ticks stay O(fleet)). */
  private inFlight = 0;
  private now: number;

  constructor(options: SimulationOptions, ports: SimulationPorts) {
    validate(options);
    this.options = options;
    this.ports = ports;
    const root = new Random(options.seed);
    this.world = buildWorld(root.fork('world'), options);
    this.rngShipments = root.fork('shipments');
    this.rngDynamics = root.fork('dynamics');
    this.rngIds = root.fork('ids');
    this.faultContext = {
      rng: root.fork('faults'),
      options: options.faults,
      telemetryIntervalMs: options.telemetryIntervalMs,
      canTruncate: ports.encode !== undefined,
      statistics: this.statistics,
    };
    this.now = options.startTime;
    this.vehicles = this.world.vehicles.map((spec) => this.initialVehicle(spec));
    if (options.shipmentsPerHour === undefined && options.shipments !== undefined) {
      // N arrivals of a Poisson process conditioned on N in the window are N uniform times:
      // all of them fall in the first half of the run, leaving the rest to finish the trips.
      const window = options.durationMs / 2;
      this.plannedCreations = Array.from(
        { length: options.shipments },
        () => options.startTime + this.rngShipments.uniform(0, window),
      ).sort((a, b) => b - a);
    }
    this.nextCreationAt = this.nextArrival(options.startTime);
  }

  private nextArrival(after: number): number {
    if (this.plannedCreations) return this.plannedCreations.pop() ?? Number.POSITIVE_INFINITY;
    const perHour = this.options.shipmentsPerHour ?? 1;
    return after + this.rngShipments.exponential(HOUR / perHour);
  }

  private initialVehicle(spec: VehicleSpec): VehicleState {
    const depot = this.depot(spec.homeDepotId);
    return {
      spec,
      place: depot,
      lat: depot.lat,
      lon: depot.lon,
      headingDeg: 0,
      speedKmh: 0,
      fuelLiters: (spec.initialFuelPct / 100) * spec.type.tankLiters,
      engineTemp: AMBIENT_CELSIUS,
      engineOn: false,
      odometerKm: spec.initialOdometerKm,
      congestion: 1,
      phase: 'idle',
      phaseEndsAt: 0,
      shipment: undefined,
      route: undefined,
      travelledKm: 0,
      outForDeliveryAtKm: 0,
      exceptionAtKm: undefined,
      stopUntil: undefined,
      stopIsRefuel: false,
    };
  }

  private get maxCapacityKg(): number {
    return Math.max(...this.world.vehicles.map((v) => v.type.capacityKg));
  }

  private depot(id: string): Depot {
    const depot = this.world.depots.find((d) => d.id === id);
    if (!depot) throw new SimulationError('unknown depot', { context: { depotId: id } });
    return depot;
  }

  /** Runs to the end of the duration (or until every shipment is done, or the signal aborts). */
  async run(): Promise<SimulationResult> {
    const o = this.options;
    const end = o.startTime + o.durationMs;
    let t = o.startTime;
    while (t + o.telemetryIntervalMs <= end) {
      if (this.ports.signal?.aborted) break;
      t += o.telemetryIntervalMs;
      if (this.ports.pacer) await this.ports.pacer.waitUntil(t, this.ports.signal);
      if (this.ports.signal?.aborted) break;
      await this.tick(t);
      if (o.stopWhenDone && this.allDone()) break;
    }
    // Whatever was held back (late, out of order) still goes out: faults delay, they never drop.
    await this.releaseHeld(Number.POSITIVE_INFINITY);
    this.statistics.simulatedMs = this.now - o.startTime;
    this.statistics.shipmentsInFlight = this.inFlight;
    return {
      statistics: this.statistics.snapshot(),
      shipments: [...this.shipments.values()].map((s) => ({ ...s.row })),
      groundTruth: [...this.groundTruth],
    };
  }

  private allDone(): boolean {
    if (this.options.shipments === undefined) return false;
    return this.created >= this.options.shipments && this.inFlight === 0;
  }

  /** One telemetry interval ending at `t`. */
  private async tick(t: number): Promise<void> {
    const from = this.now;
    this.now = t;
    this.statistics.simulatedMs = t - this.options.startTime;
    this.createShipments(t);
    this.cancelDue(t);
    for (const v of this.vehicles) this.stepVehicle(v, from, t);
    this.dispatch(t);
    if (this.batch.length > 0) {
      const batch = this.batch;
      this.batch = [];
      await this.ports.store.write(batch);
      this.statistics.storeTransactions += 1;
    }
    for (const v of this.vehicles) {
      const reading = this.reading(v, t);
      this.statistics.telemetryReadings += 1;
      for (const out of injectFaults(reading, this.faultContext)) {
        this.held.push({ out, seq: this.heldSeq++ });
      }
    }
    this.statistics.shipmentsInFlight = this.inFlight;
    await this.releaseHeld(t);
  }

  private async releaseHeld(upTo: number): Promise<void> {
    const due = this.held.filter((h) => h.out.releaseAt <= upTo);
    if (due.length === 0) return;
    this.held = this.held.filter((h) => h.out.releaseAt > upTo);
    due.sort((a, b) => a.out.releaseAt - b.out.releaseAt || a.seq - b.seq);
    const { sink, encode } = this.ports;
    for (const { out } of due) {
      if (out.kind === 'event') {
        await sink.send(out.event);
        this.statistics.telemetrySent += 1;
      } else if (out.kind === 'raw') {
        await sink.sendRaw(out.key, out.value);
        this.statistics.rawSent += 1;
      } else if (encode) {
        await sink.sendRaw(
          out.event.vehicleId,
          truncateEncoding(await encode(out.event), out.keepFraction),
        );
        this.statistics.rawSent += 1;
      }
    }
  }

  // ---- shipments -------------------------------------------------------------------------

  private createShipments(t: number): void {
    const limit = this.options.shipments;
    while (this.nextCreationAt <= t && (limit === undefined || this.created < limit)) {
      this.createShipment(Math.round(this.nextCreationAt));
      this.nextCreationAt = this.nextArrival(this.nextCreationAt);
    }
  }

  private createShipment(at: number): void {
    const rng = this.rngShipments;
    const customer: Customer = rng.pick(this.world.customers);
    // Mostly from the nearest depot; sometimes from another one (stock held elsewhere).
    const byDistance = [...this.world.depots].sort(
      (a, b) => haversineKm(a, customer.site) - haversineKm(b, customer.site),
    );
    const origin = (rng.bernoulli(0.75) ? byDistance[0] : rng.pick(byDistance)) as Depot;
    const size = rng.next();
    const drawn =
      size < 0.6
        ? rng.uniform(20, 1_100)
        : size < 0.9
          ? rng.uniform(1_200, 6_500)
          : rng.uniform(7_000, 22_000);
    // Never more than the biggest vehicle carries, or the shipment would wait forever.
    const weightKg = round(Math.min(drawn, 0.95 * this.maxCapacityKg), 1);
    const expectedHours = planRoute(origin, customer.site).km / 60 + 3;
    const promisedAt = Math.ceil((at + expectedHours * HOUR) / HOUR) * HOUR;
    const row: Shipment = {
      shipmentId: this.rngIds.uuid(),
      customerId: customer.customerId,
      originId: origin.id,
      originLat: round(origin.lat, 6),
      originLon: round(origin.lon, 6),
      destinationId: customer.site.id,
      destinationLat: round(customer.site.lat, 6),
      destinationLon: round(customer.site.lon, 6),
      vehicleId: null,
      status: 'CREATED',
      weightKg,
      promisedAt,
      createdAt: at,
      updatedAt: at,
      changeSeq: 1,
    };
    const cancel = rng.bernoulli(this.options.cancelRate);
    const cancelDelay = rng.uniform(5 * MINUTE, 2 * HOUR);
    const state: ShipmentState = {
      row,
      cancelAt: cancel ? Math.round(at + cancelDelay) : undefined,
      exceptionPlanned: rng.bernoulli(this.options.exceptionRate),
      exceptionCount: 0,
      pickedUpAt: null,
      routeKm: null,
    };
    this.shipments.set(row.shipmentId, state);
    this.pending.push(state);
    if (cancel) this.cancellations.push(state);
    this.created += 1;
    this.inFlight += 1;
    this.statistics.shipmentsCreated += 1;
    this.statistics.changesByStatus.CREATED += 1;
    this.batch.push({ op: 'insert', shipment: { ...row } });
  }

  private change(
    s: ShipmentState,
    status: ShipmentStatus,
    at: number,
    vehicleId?: string | null,
  ): void {
    const previous = s.row.status;
    if (!isAllowedTransition(previous, status)) {
      throw new SimulationError('the simulator made a transition the table forbids', {
        context: { shipmentId: s.row.shipmentId, from: previous, to: status },
      });
    }
    const time = Math.max(Math.round(at), s.row.updatedAt);
    s.row = {
      ...s.row,
      status,
      vehicleId: vehicleId === undefined ? s.row.vehicleId : vehicleId,
      updatedAt: time,
      changeSeq: s.row.changeSeq + 1,
    };
    this.statistics.changesByStatus[status] += 1;
    this.batch.push({ op: 'update', shipment: { ...s.row }, previousStatus: previous });
    if (isTerminal(status)) this.inFlight -= 1;
    if (status === 'DELIVERED' || status === 'CANCELLED') {
      const truth: GroundTruth = {
        shipmentId: s.row.shipmentId,
        seed: this.options.seed,
        vehicleId: s.row.vehicleId,
        finalStatus: status,
        createdAt: s.row.createdAt,
        promisedAt: s.row.promisedAt,
        pickedUpAt: s.pickedUpAt,
        arrivedAt: status === 'DELIVERED' ? time : null,
        routeKm: s.routeKm === null ? null : round(s.routeKm, 3),
        exceptionCount: s.exceptionCount,
      };
      this.groundTruth.push(truth);
      this.batch.push({ op: 'ground-truth', truth });
    }
  }

  private cancelDue(t: number): void {
    for (let i = this.cancellations.length - 1; i >= 0; i--) {
      const s = this.cancellations[i] as ShipmentState;
      if (s.cancelAt === undefined || s.cancelAt > t) continue;
      this.cancellations.splice(i, 1);
      if (s.row.status !== 'CREATED' && s.row.status !== 'ASSIGNED') continue;
      const pendingIndex = this.pending.indexOf(s);
      if (pendingIndex >= 0) this.pending.splice(pendingIndex, 1);
      const vehicle = this.vehicles.find((v) => v.shipment === s);
      if (vehicle) {
        // Called off on the way to the depot: the next trip starts from where it stands.
        if (vehicle.phase === 'to-pickup') vehicle.place = this.placeHere(vehicle);
        this.becomeIdle(vehicle);
      }
      this.change(s, 'CANCELLED', s.cancelAt);
    }
  }

  /** Oldest shipment first, to the nearest idle vehicle that can carry it. */
  private dispatch(t: number): void {
    for (let i = 0; i < this.pending.length;) {
      const s = this.pending[i] as ShipmentState;
      const origin = this.depot(s.row.originId);
      let best: VehicleState | undefined;
      let bestKm = Number.POSITIVE_INFINITY;
      for (const v of this.vehicles) {
        if (v.phase !== 'idle' || v.stopUntil !== undefined) continue;
        if (v.spec.type.capacityKg < s.row.weightKg) continue;
        const km = haversineKm(v, origin);
        if (km < bestKm) {
          best = v;
          bestKm = km;
        }
      }
      if (!best) {
        i += 1;
        continue;
      }
      this.pending.splice(i, 1);
      this.change(s, 'ASSIGNED', t, best.spec.vehicleId);
      best.shipment = s;
      best.engineOn = true;
      this.startDriving(best, 'to-pickup', origin);
    }
  }

  // ---- vehicles --------------------------------------------------------------------------

  private startDriving(v: VehicleState, phase: 'to-pickup' | 'delivering', to: Place): void {
    v.route = planRoute(v.place, to);
    v.travelledKm = 0;
    v.phase = phase;
    v.headingDeg = bearingDeg(v.route.from, v.route.to);
  }

  private becomeIdle(v: VehicleState): void {
    v.phase = 'idle';
    v.shipment = undefined;
    v.route = undefined;
    v.exceptionAtKm = undefined;
    v.engineOn = false;
    v.speedKmh = 0;
  }

  /** Where the vehicle is when a trip ends early: the nearest city decides urban routing. */
  private placeHere(v: VehicleState): Place {
    const city = [...CITIES].sort((a, b) => haversineKm(a, v) - haversineKm(b, v))[0];
    return {
      id: `roadside-${v.spec.vehicleId}`,
      cityId: city?.id ?? 'none',
      lat: v.lat,
      lon: v.lon,
    };
  }

  private stepVehicle(v: VehicleState, from: number, to: number): void {
    const rng = this.rngDynamics;
    v.congestion = nextCongestion(rng, v.congestion, to - from);
    const driving = v.phase === 'to-pickup' || v.phase === 'delivering';
    if (driving && v.stopUntil === undefined && v.route) {
      // Traffic lights in town, short queues elsewhere, now and then a rest on the motorway.
      const minutes = (to - from) / MINUTE;
      const roadClass = roadClassAt(v.route, v.travelledKm);
      const stopPerMinute = roadClass === 'urban' ? 0.25 : roadClass === 'highway' ? 0.05 : 0.004;
      if (rng.bernoulli(Math.min(0.9, stopPerMinute * minutes))) {
        const stopMs =
          roadClass === 'motorway'
            ? rng.uniform(10 * MINUTE, 25 * MINUTE)
            : rng.uniform(15_000, 90_000);
        v.stopUntil = from + rng.uniform(0, to - from) + stopMs;
        v.stopIsRefuel = false;
      }
    }
    let now = from;
    // Each pass consumes time up to the next thing that happens (a milestone, the end of a stop).
    while (now < to) {
      if (v.stopUntil !== undefined && v.stopUntil <= now) this.endStop(v);
      if (v.stopUntil !== undefined) {
        const until = Math.min(v.stopUntil, to);
        this.idle(v, until - now);
        now = until;
        if (v.stopUntil <= now) this.endStop(v);
        continue;
      }
      if (v.phase === 'idle') {
        v.speedKmh = 0;
        v.engineTemp = engineTempAfter(v.engineTemp, false, 0, to - now);
        now = to;
      } else if (v.phase === 'to-pickup' || v.phase === 'delivering') {
        now = this.drive(v, now, to);
      } else {
        const until = Math.min(v.phaseEndsAt, to);
        this.idle(v, until - now);
        now = until;
        if (v.phaseEndsAt <= now) this.endPhase(v, now);
      }
    }
  }

  private idle(v: VehicleState, ms: number): void {
    v.speedKmh = 0;
    if (ms <= 0) return;
    if (v.engineOn) v.fuelLiters = Math.max(0, v.fuelLiters - idleLiters(v.spec.type, ms));
    v.engineTemp = engineTempAfter(v.engineTemp, v.engineOn, 0.05, ms);
  }

  private endStop(v: VehicleState): void {
    if (v.stopIsRefuel) {
      v.fuelLiters = v.spec.type.tankLiters;
      this.statistics.refuels += 1;
    }
    v.stopUntil = undefined;
    v.stopIsRefuel = false;
  }

  private cargoKg(v: VehicleState): number {
    return v.phase === 'delivering' || v.phase === 'exception'
      ? (v.shipment?.row.weightKg ?? 0)
      : 0;
  }

  /** Drives from `now` until `to` or the next milestone, whichever comes first. */
  private drive(v: VehicleState, now: number, to: number): number {
    const route = v.route;
    if (!route)
      throw new SimulationError('a driving vehicle without a route', {
        context: { vehicleId: v.spec.vehicleId },
      });
    const roadClass = roadClassAt(route, v.travelledKm);
    const speed = drivingSpeedKmh(v.spec.type, roadClass, now, v.congestion);
    const milestones = [route.km];
    let legEnd = 0;
    for (const leg of route.legs) {
      legEnd += leg.km;
      milestones.push(legEnd);
    }
    if (v.phase === 'delivering' && v.shipment?.row.status === 'IN_TRANSIT') {
      milestones.push(v.outForDeliveryAtKm);
      if (v.exceptionAtKm !== undefined) milestones.push(v.exceptionAtKm);
    }
    const next = Math.min(...milestones.filter((m) => m > v.travelledKm + 1e-9), route.km);
    const hoursToNext = (next - v.travelledKm) / speed;
    const reached = now + hoursToNext * HOUR <= to;
    const until = reached ? now + hoursToNext * HOUR : to;
    const km = reached ? next - v.travelledKm : (speed * (to - now)) / HOUR;
    const cargo = this.cargoKg(v);
    const load = engineLoad(v.spec.type, speed, cargo);
    v.travelledKm = reached ? next : v.travelledKm + km;
    v.odometerKm += km;
    v.fuelLiters = Math.max(0, v.fuelLiters - drivingLiters(v.spec.type, roadClass, km, cargo));
    v.engineTemp = engineTempAfter(v.engineTemp, true, load, until - now);
    const position = positionAt(route, v.travelledKm);
    v.lat = position.lat;
    v.lon = position.lon;
    v.speedKmh = speed;
    if (reached) this.milestone(v, until);
    if (
      v.fuelLiters < REFUEL_BELOW * v.spec.type.tankLiters &&
      v.stopUntil === undefined &&
      v.phase !== 'idle'
    ) {
      v.stopUntil = until + this.rngDynamics.uniform(10 * MINUTE, 20 * MINUTE);
      v.stopIsRefuel = true;
    }
    return until;
  }

  private milestone(v: VehicleState, at: number): void {
    const route = v.route as Route;
    const s = v.shipment;
    if (v.travelledKm >= route.km - 1e-9) {
      v.place = route.to;
      v.speedKmh = 0;
      if (v.phase === 'to-pickup') {
        v.phase = 'loading';
        v.engineOn = false;
        v.phaseEndsAt = at + this.rngDynamics.uniform(10 * MINUTE, 25 * MINUTE);
      } else if (s) {
        // Arriving delivers: the ground truth arrival is this instant.
        if (s.row.status === 'IN_TRANSIT') this.change(s, 'OUT_FOR_DELIVERY', at);
        this.change(s, 'DELIVERED', at);
        v.phase = 'unloading';
        v.engineOn = false;
        v.phaseEndsAt = at + this.rngDynamics.uniform(5 * MINUTE, 15 * MINUTE);
      }
      return;
    }
    if (!s || v.phase !== 'delivering' || s.row.status !== 'IN_TRANSIT') return;
    if (v.exceptionAtKm !== undefined && v.travelledKm >= v.exceptionAtKm - 1e-9) {
      v.exceptionAtKm = undefined;
      s.exceptionCount += 1;
      this.change(s, 'EXCEPTION', at);
      v.phase = 'exception';
      v.speedKmh = 0;
      v.phaseEndsAt =
        at + Math.min(4 * HOUR, Math.max(10 * MINUTE, this.rngDynamics.exponential(45 * MINUTE)));
      return;
    }
    if (v.travelledKm >= v.outForDeliveryAtKm - 1e-9) this.change(s, 'OUT_FOR_DELIVERY', at);
  }

  private endPhase(v: VehicleState, at: number): void {
    const s = v.shipment;
    if (v.phase === 'loading' && s) {
      s.pickedUpAt = Math.round(at);
      this.change(s, 'PICKED_UP', at);
      v.phase = 'departing';
      v.engineOn = true;
      v.phaseEndsAt = at + this.rngDynamics.uniform(1 * MINUTE, 4 * MINUTE);
    } else if (v.phase === 'departing' && s) {
      this.change(s, 'IN_TRANSIT', at);
      const site = this.world.customers.find((c) => c.site.id === s.row.destinationId)?.site;
      if (!site)
        throw new SimulationError('unknown destination', {
          context: { destinationId: s.row.destinationId },
        });
      this.startDriving(v, 'delivering', site);
      const route = v.route as Route;
      s.routeKm = route.km;
      v.outForDeliveryAtKm = Math.max(0, route.km - Math.min(OUT_FOR_DELIVERY_KM, 0.3 * route.km));
      v.exceptionAtKm = s.exceptionPlanned
        ? this.rngDynamics.uniform(0.1, 0.9) * v.outForDeliveryAtKm
        : undefined;
    } else if (v.phase === 'exception' && s) {
      if (this.rngDynamics.bernoulli(this.options.exceptionResumeRate)) {
        this.change(s, 'IN_TRANSIT', at);
        v.phase = 'delivering';
      } else {
        this.change(s, 'CANCELLED', at);
        v.place = this.placeHere(v);
        this.becomeIdle(v);
        // The engine was running through the delay; it cools from here.
        v.engineOn = false;
      }
    } else {
      // Unloaded (or a phase whose shipment was cancelled): ready for the next job.
      this.becomeIdle(v);
    }
  }

  private reading(v: VehicleState, t: number): VehicleTelemetry {
    return {
      eventId: this.rngIds.uuid(),
      vehicleId: v.spec.vehicleId,
      eventTime: t,
      lat: round(v.lat, 6),
      lon: round(v.lon, 6),
      speed: round(v.speedKmh, 1),
      speedUnit: 'KMH',
      headingDeg: round(v.headingDeg, 1),
      fuelPct: round((100 * v.fuelLiters) / v.spec.type.tankLiters, 1),
      engineTemp: round(v.engineTemp, 1),
      temperatureUnit: 'CELSIUS',
      odometerKm: round(v.odometerKm, 2),
    };
  }
}

function validate(o: SimulationOptions): void {
  const problems: string[] = [];
  const rate = (name: string, p: number): void => {
    if (!(p >= 0 && p <= 1)) problems.push(`${name} must be a probability in [0, 1], got ${p}`);
  };
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffff_ffff)
    problems.push(`seed must be an integer in [0, 4294967295], got ${o.seed}`);
  if (!(o.durationMs > 0)) problems.push(`duration must be positive, got ${o.durationMs} ms`);
  if (!(o.telemetryIntervalMs >= 1_000))
    problems.push(`telemetry interval must be at least 1 s, got ${o.telemetryIntervalMs} ms`);
  if (!Number.isInteger(o.vehicles) || o.vehicles < 1)
    problems.push(`vehicles must be a positive integer, got ${o.vehicles}`);
  if (!Number.isInteger(o.customers) || o.customers < 1)
    problems.push(`customers must be a positive integer, got ${o.customers}`);
  if (o.shipments !== undefined && (!Number.isInteger(o.shipments) || o.shipments < 0))
    problems.push(`shipments must be a non-negative integer, got ${o.shipments}`);
  if (o.shipmentsPerHour !== undefined && !(o.shipmentsPerHour > 0))
    problems.push(`shipments per hour must be positive, got ${o.shipmentsPerHour}`);
  rate('cancel rate', o.cancelRate);
  rate('exception rate', o.exceptionRate);
  rate('exception resume rate', o.exceptionResumeRate);
  const f = o.faults;
  for (const [name, p] of Object.entries(f) as [keyof FaultOptions, number][])
    if (name !== 'lateDelayMs') rate(`fault rate ${name}`, p);
  if (f.late + f.outOfOrder > 1) problems.push('fault rates late + outOfOrder must not exceed 1');
  if (!(f.lateDelayMs >= 0))
    problems.push(`late delay must not be negative, got ${f.lateDelayMs} ms`);
  if (problems.length > 0)
    throw new SimulationError(`invalid simulation options: ${problems.join('; ')}`, {
      context: { problems },
    });
}
