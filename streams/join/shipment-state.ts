// The join (key = vehicle id): the shipments a vehicle's task owns ⋈ the vehicle's clean
// readings, on event time only. A state for a change at time t shows the vehicle's latest
// reading at or before t (a finished shipment) or its latest reading (an active one: every
// reading after t moves it on); a reading at t moves every active shipment of its vehicle on,
// and corrects a finished one whose end is at or after t. Readings of a vehicle arrive in event
// order (the cleaner's guarantee), so the join can tell when nothing older can come: a finished
// shipment is final once a reading at or after its end arrives. Readings are kept as versions
// (a versioned store), so a change that arrives after its vehicle's later readings still joins
// the reading of its time. The same inputs thus give the same last state and the same training
// examples live, in a burst or in a replay (streams/join/README.md).
import { isTerminal } from '../../schemas/shipment-lifecycle.ts';
import type {
  DeliveryExample,
  EtaModel,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../schemas/types.ts';
import { lineageOf, type RecordPosition } from '../lineage.ts';
import type { Processor, ProcessorContext } from '../runtime/processor.ts';
import type { StreamRecord } from '../runtime/record.ts';
import type { KeyValueStore } from '../runtime/state-store.ts';
import type { VersionedKeyValueStore, VersionedRecord } from '../runtime/versioned-store.ts';
import { BaselineEtaPredictor, type EtaPredictor } from './eta-predictor.ts';
import {
  PublishedModelEtaPredictor,
  type PublishedModelOptions,
} from './published-model-predictor.ts';
import type { RoutedChange } from './shipment-router.ts';
import {
  checkpointAt,
  deliveryExample,
  TRIP_CHECKPOINT_DEFAULTS,
  type ExampleSkipReason,
  type TripRecord,
} from './trip-checkpoints.ts';
import {
  ON_TRIP,
  unifiedShipmentState,
  type JoinedChange,
  type VehicleReading,
} from './unified-state.ts';

/** A shipment handed from its old vehicle's task to its new one (with the change that moved it). */
export interface HandoffChange {
  kind: 'handoff';
  change: ShipmentChange;
  source: RecordPosition;
  /** When the trip started, if it had; the trip's checkpoints stay behind (no example). */
  pickedUpAt: number | null;
}

/** What the join reads from its repartition: routed changes and handoffs. */
export type JoinChange = RoutedChange | HandoffChange;

type JoinOutput = UnifiedShipmentState | DeliveryExample | HandoffChange;

export interface ShipmentStateOptions {
  /** Predicts when no published model serves (and always, without `etaModels`). */
  predictor: EtaPredictor;
  /** The global store of eta.models to serve published models from, and which one serves. */
  etaModels?: { store: string } & Partial<PublishedModelOptions>;
  checkpointIntervalMs: number;
  /**
   * A finished shipment whose vehicle sends nothing newer is final once this task's readings
   * are this far (event time) past its end: a vehicle that went silent must not hold it forever.
   */
  finishAfterMs: number;
  /** How long (event time) a finished shipment is remembered, to drop redelivered changes. */
  retentionMs: number;
  /**
   * When the task has had no input for this long (wall clock), the finished shipments still
   * waiting for their vehicle's readings are made final (the end of a bounded input).
   */
  quietAfterMs: number;
  /** Told about every delivery that gave no training example, and why (wire to a counter). */
  onExampleSkipped?: (reason: ExampleSkipReason, shipmentId: string) => void;
  /** Told about every reading not newer than its vehicle's latest (a redelivery: dropped). */
  onStaleReading?: (reading: VehicleTelemetry) => void;
}

export const SHIPMENT_STATE_DEFAULTS: ShipmentStateOptions = {
  predictor: new BaselineEtaPredictor(),
  checkpointIntervalMs: TRIP_CHECKPOINT_DEFAULTS.checkpointIntervalMs,
  finishAfterMs: 30 * 60_000,
  retentionMs: 24 * 3_600_000,
  quietAfterMs: 60_000,
};

/** How often the join looks whether its task went quiet (wall clock). */
const QUIET_CHECK_INTERVAL_MS = 1_000;

export const SHIPMENT_STATE_STORES = {
  /** vehicle id → its clean readings, as versions by event time (a versioned store). */
  readings: 'join-vehicle-readings',
  /** shipment id → what the owning task knows of it. */
  shipments: 'join-shipments',
  /** vehicle id → ids of the shipments its task owns (active, or finished and not yet final). */
  vehicleShipments: 'join-vehicle-shipments',
  /** shipment id → its trip's checkpoints (written only when one is added). */
  trips: 'join-trips',
  /** shipment id → changes that came before the handoff that brings the shipment here. */
  pending: 'join-pending-changes',
} as const;

/** A shipment as its owning task keeps it (store `join-shipments`). */
export interface OwnedShipment {
  /** The key (vehicle id) of the task that owns it: its last vehicle. */
  owner: string;
  change: JoinedChange;
  pickedUpAt: number | null;
  odometerAtPickupKm: number | null;
  /** A reading after pickup arrived: nothing can change the odometer at pickup any more. */
  odometerFinal: boolean;
  /** The trip changed vehicles: its checkpoints stayed with the first one. */
  reassigned: boolean;
  /** Finished, not yet final: the position time its last state shows. */
  shownPositionTime: number | null;
  /**
   * Event time (of this task's readings) at which a finished shipment is made final, or a
   * retired one forgotten; null while active. The store's time index.
   */
  dueAt: number | null;
  /** Final and gone from its vehicle: kept only to recognize redelivered changes. */
  retired: boolean;
}

/** The time index of `join-shipments`. */
export function shipmentDueAt(shipment: OwnedShipment): number | undefined {
  return shipment.dueAt ?? undefined;
}

export interface ShipmentStateOutputs {
  state: string;
  examples: string;
  handoffs: string;
}

export class ShipmentStateProcessor implements Processor<
  string,
  JoinChange | VehicleTelemetry,
  string,
  JoinOutput
> {
  private readonly options: ShipmentStateOptions;
  private readonly outputs: ShipmentStateOutputs;
  private context!: ProcessorContext<string, JoinOutput>;
  private readings!: VersionedKeyValueStore<string, VehicleReading>;
  private shipments!: KeyValueStore<string, OwnedShipment>;
  private vehicleShipments!: KeyValueStore<string, string[]>;
  private trips!: KeyValueStore<string, TripRecord>;
  private pending!: KeyValueStore<string, JoinChange[]>;
  private predictor!: EtaPredictor;
  /** Wall clock of the last input (not state: a restart starts counting afresh). */
  private lastInputAt = 0;
  private quietFlushed = false;

  constructor(options: Partial<ShipmentStateOptions>, outputs: ShipmentStateOutputs) {
    this.options = { ...SHIPMENT_STATE_DEFAULTS, ...options };
    this.outputs = outputs;
  }

  init(context: ProcessorContext<string, JoinOutput>): void {
    this.context = context;
    this.readings = context.getVersionedStore(SHIPMENT_STATE_STORES.readings);
    this.shipments = context.getStateStore(SHIPMENT_STATE_STORES.shipments);
    this.vehicleShipments = context.getStateStore(SHIPMENT_STATE_STORES.vehicleShipments);
    this.trips = context.getStateStore(SHIPMENT_STATE_STORES.trips);
    this.pending = context.getStateStore(SHIPMENT_STATE_STORES.pending);
    const models = this.options.etaModels;
    this.predictor = models
      ? new PublishedModelEtaPredictor(
          context.getGlobalStore<string, EtaModel>(models.store),
          this.options.predictor,
          models,
        )
      : this.options.predictor;
    this.lastInputAt = context.currentSystemTimeMs();
    context.schedule(QUIET_CHECK_INTERVAL_MS, 'wall-clock', (now) => this.onWallClock(now));
  }

  process(record: StreamRecord<string, JoinChange | VehicleTelemetry>): void {
    this.lastInputAt = this.context.currentSystemTimeMs();
    this.quietFlushed = false;
    const value = record.value;
    if ('kind' in value) this.onChange(record.key, value);
    else this.onReading(record.key, value, record);
  }

  // ---- readings ---------------------------------------------------------------------------

  private onReading(
    vehicleId: string,
    telemetry: VehicleTelemetry,
    record: StreamRecord<string, unknown>,
  ): void {
    const latest = this.readings.get(vehicleId);
    if (latest && telemetry.eventTime <= latest.timestamp) {
      // Readings of a vehicle come in event order: this one was seen (a redelivery or a rerun).
      this.options.onStaleReading?.(telemetry);
      return;
    }
    const meta = this.context.recordMetadata;
    const reading: VehicleReading = {
      telemetry,
      source: lineageOf(record.headers) ?? {
        topic: meta?.topic ?? '',
        partition: meta?.partition ?? this.context.partition,
        offset: Number(meta?.offset ?? -1),
      },
    };
    this.readings.put(vehicleId, reading, telemetry.eventTime);
    const t = telemetry.eventTime;
    for (const id of this.vehicleShipments.get(vehicleId) ?? []) {
      const stored = this.shipments.get(id);
      if (!stored || stored.retired) continue;
      const s = { ...stored };
      const row = s.change.row;
      if (row.vehicleId !== vehicleId) continue;
      let changed = this.advancePickupOdometer(s, t, telemetry.odometerKm);
      if (s.dueAt !== null) {
        // Finished: this reading is its last position if it is not after the end, and a
        // checkpoint of the trip if it makes one.
        if (t <= row.updatedAt && (s.shownPositionTime === null || t > s.shownPositionTime)) {
          this.recordCheckpoint(id, s, telemetry);
          this.emit(s, reading);
          s.shownPositionTime = t;
          changed = true;
        }
        if (t >= row.updatedAt) {
          this.finish(id, s);
          continue;
        }
      } else {
        this.recordCheckpoint(id, s, telemetry);
        this.emit(s, reading);
      }
      if (changed) this.shipments.put(id, s);
    }
    this.finishOverdue();
  }

  /**
   * The odometer at pickup is the last reading at or before pickup, or, when there was none,
   * the first one after it. A reading after pickup settles it. Returns whether it changed.
   */
  private advancePickupOdometer(s: OwnedShipment, t: number, odometerKm: number): boolean {
    if (s.pickedUpAt === null || s.odometerFinal) return false;
    if (t <= s.pickedUpAt) s.odometerAtPickupKm = odometerKm;
    else {
      s.odometerAtPickupKm ??= odometerKm;
      s.odometerFinal = true;
    }
    return true;
  }

  private recordCheckpoint(id: string, s: OwnedShipment, telemetry: VehicleTelemetry): void {
    if (s.pickedUpAt === null || s.reassigned) return;
    const trip = this.trips.get(id);
    if (!trip) return;
    const checkpoint = checkpointAt(
      trip,
      telemetry,
      s.change.row,
      s.odometerAtPickupKm,
      this.options,
    );
    if (checkpoint) this.trips.put(id, { ...trip, checkpoints: [...trip.checkpoints, checkpoint] });
  }

  // ---- changes ----------------------------------------------------------------------------

  private onChange(key: string, routed: JoinChange): void {
    const row = routed.change.after ?? routed.change.before;
    if (!row) return;
    const id = row.shipmentId;
    const known = this.shipments.get(id);
    const seq = routed.change.after?.changeSeq ?? Number.POSITIVE_INFINITY;
    if (known && routed.change.after && seq <= known.change.row.changeSeq) return; // redelivered
    if (known?.retired) return; // only a DELETE follows a finished shipment: nothing to write
    if (!known && routed.kind === 'change' && routed.owned) {
      // Ours, but the shipment is still on its way from its previous vehicle's task.
      if (routed.change.op !== 'DELETE')
        this.pending.put(id, [...(this.pending.get(id) ?? []), routed]);
      return;
    }
    this.apply(key, routed, known);
    // Changes that waited for this one, in order.
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    for (const next of [...waiting].sort(
      (a, b) => (a.change.after?.changeSeq ?? 0) - (b.change.after?.changeSeq ?? 0),
    ))
      this.onChange(key, next);
  }

  private apply(key: string, routed: JoinChange, known: OwnedShipment | undefined): void {
    const { change } = routed;
    const row = change.after;
    const id = (change.after ?? change.before)?.shipmentId ?? '';
    if (!row) {
      this.forget(key, id);
      return;
    }
    if (routed.kind === 'change' && routed.handoffTo !== undefined && routed.handoffTo !== key) {
      // Let go first: whatever this task wrote for the shipment precedes this handoff.
      this.forget(key, id);
      this.context.forward(
        {
          key: routed.handoffTo,
          value: {
            kind: 'handoff',
            change,
            source: routed.source,
            pickedUpAt: known?.pickedUpAt ?? null,
          },
          timestamp: row.updatedAt,
        },
        this.outputs.handoffs,
      );
      return;
    }
    const handedOver = routed.kind === 'handoff';
    const s: OwnedShipment = {
      owner: key,
      change: {
        row,
        commitLsn: change.source.snapshot ? 0 : change.source.commitLsn,
        source: routed.source,
      },
      pickedUpAt: known?.pickedUpAt ?? (handedOver ? routed.pickedUpAt : null),
      odometerAtPickupKm: handedOver ? null : (known?.odometerAtPickupKm ?? null),
      odometerFinal: handedOver ? false : (known?.odometerFinal ?? false),
      reassigned: handedOver || (known?.reassigned ?? false),
      shownPositionTime: null,
      dueAt: null,
      retired: false,
    };
    const vehicleId = row.vehicleId;
    const newest = vehicleId === null ? undefined : this.readings.get(vehicleId);
    const t = row.updatedAt;
    const startsTrip =
      s.pickedUpAt === null && (row.status === 'PICKED_UP' || ON_TRIP.has(row.status));
    if (startsTrip || (handedOver && s.pickedUpAt !== null)) {
      // A trip starts (or, handed over, goes on from here on this vehicle).
      if (startsTrip) s.pickedUpAt = t;
      this.settlePickupOdometer(s, vehicleId, t);
      if (startsTrip && vehicleId !== null && !s.reassigned) this.startTrip(id, s, vehicleId);
    }
    const terminal = isTerminal(row.status);
    const shown =
      vehicleId === null
        ? undefined
        : terminal
          ? this.readings.getAsOf(vehicleId, t)?.value
          : newest?.value;
    this.emit(s, shown);
    if (terminal) {
      s.shownPositionTime = shown?.telemetry.eventTime ?? null;
      if (vehicleId === null || (newest !== undefined && newest.timestamp >= t)) {
        this.finish(id, s);
        return;
      }
      s.dueAt = t + this.options.finishAfterMs;
    }
    this.shipments.put(id, s);
    const owned = this.vehicleShipments.get(key) ?? [];
    if (!owned.includes(id)) this.vehicleShipments.put(key, [...owned, id]);
  }

  /** The odometer at pickup from the reading history, settled if a later reading is known. */
  private settlePickupOdometer(
    s: OwnedShipment,
    vehicleId: string | null,
    pickedUpAt: number,
  ): void {
    if (vehicleId === null) return;
    const before = this.readings.getAsOf(vehicleId, pickedUpAt);
    const newest = this.readings.get(vehicleId);
    const settled = newest !== undefined && newest.timestamp > pickedUpAt;
    const after = settled
      ? this.readings.range(vehicleId, pickedUpAt + 1, newest.timestamp)[0]
      : undefined;
    s.odometerAtPickupKm =
      before?.value.telemetry.odometerKm ?? after?.value.telemetry.odometerKm ?? null;
    s.odometerFinal = settled;
  }

  /** Opens the trip's record and takes the checkpoints its readings already made. */
  private startTrip(id: string, s: OwnedShipment, vehicleId: string): void {
    if (s.pickedUpAt === null) return;
    const trip: TripRecord = { vehicleId, pickedUpAt: s.pickedUpAt, checkpoints: [] };
    const newest = this.readings.get(vehicleId);
    if (newest) {
      const seen: VersionedRecord<VehicleReading>[] = this.readings.range(
        vehicleId,
        s.pickedUpAt,
        newest.timestamp,
      );
      for (const { value } of seen) {
        const checkpoint = checkpointAt(
          trip,
          value.telemetry,
          s.change.row,
          s.odometerAtPickupKm,
          this.options,
        );
        if (checkpoint) trip.checkpoints.push(checkpoint);
      }
    }
    this.trips.put(id, trip);
  }

  // ---- finishing --------------------------------------------------------------------------

  /**
   * Makes a finished shipment final: its delivery example (or why there is none), then it
   * leaves its vehicle and is remembered only as retired.
   */
  private finish(id: string, s: OwnedShipment): void {
    const row = s.change.row;
    if (row.status === 'DELIVERED') {
      const example = s.reassigned
        ? ('reassigned' as const)
        : deliveryExample(row, this.trips.get(id));
      if (typeof example === 'string') this.options.onExampleSkipped?.(example, id);
      else
        this.context.forward(
          { key: id, value: example, timestamp: row.updatedAt },
          this.outputs.examples,
        );
    }
    this.trips.delete(id);
    this.dropFromVehicle(s.owner, id);
    this.shipments.put(id, {
      ...s,
      retired: true,
      shownPositionTime: null,
      dueAt: row.updatedAt + this.options.retentionMs,
    });
  }

  /** Finishes shipments overdue on this task's reading time, and forgets retired ones. */
  private finishOverdue(): void {
    for (const id of this.shipments.keysBefore(this.readings.observedStreamTime + 1)) {
      const s = this.shipments.get(id);
      if (!s) continue;
      if (s.retired) this.shipments.delete(id);
      else this.finish(id, { ...s });
    }
  }

  private onWallClock(now: number): void {
    if (this.quietFlushed || now - this.lastInputAt < this.options.quietAfterMs) return;
    this.quietFlushed = true;
    // Quiet: a bounded input has ended, or every vehicle went silent. What waits is final.
    for (const id of this.shipments.keysBefore(Number.POSITIVE_INFINITY)) {
      const s = this.shipments.get(id);
      if (s && !s.retired) this.finish(id, { ...s });
    }
  }

  /** The shipment leaves this task (DELETE, or handed to another vehicle's task). */
  private forget(key: string, id: string): void {
    this.shipments.delete(id);
    this.trips.delete(id);
    this.dropFromVehicle(key, id);
  }

  private dropFromVehicle(key: string, id: string): void {
    const owned = this.vehicleShipments.get(key);
    if (!owned?.includes(id)) return;
    const rest = owned.filter((other) => other !== id);
    if (rest.length > 0) this.vehicleShipments.put(key, rest);
    else this.vehicleShipments.delete(key);
  }

  private emit(s: OwnedShipment, reading: VehicleReading | undefined): void {
    const value = unifiedShipmentState(
      s.change,
      reading,
      { pickedUpAt: s.pickedUpAt, odometerAtPickupKm: s.odometerAtPickupKm },
      this.predictor,
    );
    this.context.forward(
      { key: value.shipmentId, value, timestamp: value.stateUpdatedAt },
      this.outputs.state,
    );
  }
}
