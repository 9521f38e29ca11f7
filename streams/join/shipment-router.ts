// Routes cleaned shipment changes (key = shipment id) to the one task that writes each
// shipment's states. A shipment no vehicle has taken yet gets its states right here, from the
// change alone. Once a vehicle takes it, its owner is that vehicle's join task (key = vehicle
// id, through the repartition) for good: while unassigned again, and until another vehicle takes
// it — then the change goes to the old owner, which lets go and hands the shipment on. So at any
// time one task writes a shipment's states, and each writer's last state precedes the next
// writer's first in shipment.state (the next one hears of the shipment only from a transaction
// the previous one committed): versions only rise in the topic, not just in the sinks.
import { isTerminal } from '../../schemas/shipment-lifecycle.ts';
import type { ShipmentChange, UnifiedShipmentState } from '../../schemas/types.ts';
import type { RecordPosition } from '../lineage.ts';
import {
  RecordRejectedError,
  type Processor,
  type ProcessorContext,
} from '../runtime/processor.ts';
import type { StreamRecord } from '../runtime/record.ts';
import type { KeyValueStore } from '../runtime/state-store.ts';
import type { EtaPredictor } from './eta-predictor.ts';
import { MAX_CHANGE_SEQ, unifiedShipmentState } from './unified-state.ts';

/** A change on its way to the join task that owns the shipment. */
export interface RoutedChange {
  kind: 'change';
  change: ShipmentChange;
  /** Its position in shipments.cdc (the state reports it). */
  source: RecordPosition;
  /** The receiver owned the shipment before this change (else it adopts it now). */
  owned: boolean;
  /** The receiver lets go of the shipment and hands it, with this change, to that vehicle's task. */
  handoffTo?: string;
}

/** What the router knows of a shipment a vehicle took (store `shipment-owners`). */
export interface ShipmentOwner {
  /** The vehicle whose join task writes the shipment's states. */
  owner: string;
  changeSeq: number;
  /** When the entry may go: the terminal change's event time + retention; null while active. */
  forgetAt: number | null;
}

export interface ShipmentRouterOptions {
  /** How long (event time) a finished shipment's owner is remembered, for late redeliveries. */
  retentionMs: number;
  /** Predicts nothing for unassigned shipments (no trip), but the state builder wants one. */
  predictor: EtaPredictor;
}

export const SHIPMENT_ROUTER_STORES = {
  owners: 'shipment-owners',
} as const;

/** Children the router forwards to: the repartition to the join, and shipment.state. */
export interface ShipmentRouterOutputs {
  toJoin: string;
  toState: string;
}

export class ShipmentRouterProcessor implements Processor<
  string,
  ShipmentChange,
  string,
  RoutedChange | UnifiedShipmentState
> {
  private readonly options: ShipmentRouterOptions;
  private readonly outputs: ShipmentRouterOutputs;
  private context!: ProcessorContext<string, RoutedChange | UnifiedShipmentState>;
  private owners!: KeyValueStore<string, ShipmentOwner>;

  constructor(options: ShipmentRouterOptions, outputs: ShipmentRouterOutputs) {
    this.options = options;
    this.outputs = outputs;
  }

  init(context: ProcessorContext<string, RoutedChange | UnifiedShipmentState>): void {
    this.context = context;
    this.owners = context.getStateStore(SHIPMENT_ROUTER_STORES.owners);
  }

  process(record: StreamRecord<string, ShipmentChange>): void {
    const change = record.value;
    const shipmentId = record.key;
    const meta = this.context.recordMetadata;
    const source: RecordPosition = {
      topic: meta?.topic ?? '',
      partition: meta?.partition ?? this.context.partition,
      offset: Number(meta?.offset ?? -1),
    };
    const after = change.after;
    if (after && after.changeSeq > MAX_CHANGE_SEQ)
      throw new RecordRejectedError(
        'version-overflow',
        `${shipmentId}: changeSeq ${after.changeSeq} is above ${MAX_CHANGE_SEQ}, past what a state version can order exactly`,
        { shipmentId, changeSeq: after.changeSeq },
      );
    const known = this.owners.get(shipmentId);
    const route = (to: string, routed: Omit<RoutedChange, 'kind' | 'change' | 'source'>): void =>
      this.context.forward(
        {
          key: to,
          value: { kind: 'change', change, source, ...routed },
          timestamp: record.timestamp,
        },
        this.outputs.toJoin,
      );

    if (!after) {
      // DELETE: its owner forgets it; an unowned shipment has nothing to forget. No state.
      if (known) {
        route(known.owner, { owned: true });
        this.owners.delete(shipmentId);
      }
      this.expire();
      return;
    }
    const forgetAt = isTerminal(after.status) ? record.timestamp + this.options.retentionMs : null;
    if (!known) {
      if (after.vehicleId === null) {
        this.context.forward(
          {
            key: shipmentId,
            value: unifiedShipmentState(
              {
                row: after,
                commitLsn: change.source.snapshot ? 0 : change.source.commitLsn,
                source,
              },
              undefined,
              { pickedUpAt: null, odometerAtPickupKm: null },
              this.options.predictor,
            ),
            timestamp: record.timestamp,
          },
          this.outputs.toState,
        );
      } else {
        route(after.vehicleId, { owned: false });
        this.owners.put(shipmentId, {
          owner: after.vehicleId,
          changeSeq: after.changeSeq,
          forgetAt,
        });
      }
    } else {
      // Unassigned again, it stays with its last vehicle's task, which knows its trip.
      const owner = after.vehicleId ?? known.owner;
      route(
        known.owner,
        owner === known.owner ? { owned: true } : { owned: true, handoffTo: owner },
      );
      this.owners.put(shipmentId, { owner, changeSeq: after.changeSeq, forgetAt });
    }
    this.expire();
  }

  /** Forgets finished shipments past their retention. */
  private expire(): void {
    for (const id of this.owners.keysBefore(this.context.streamTime)) this.owners.delete(id);
  }
}
