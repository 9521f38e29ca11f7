// Cleans shipments.cdc (key = shipment id): drops CDC redeliveries, enforces the status
// lifecycle of schemas/shipment-lifecycle.ts and forwards the valid changes.
import { isDuplicateChange } from '../../schemas/change-marks.ts';
import {
  INITIAL_STATUS,
  isAllowedTransition,
  isTerminal,
} from '../../schemas/shipment-lifecycle.ts';
import type { Shipment, ShipmentChange, ShipmentStatus } from '../../schemas/types.ts';
import {
  RecordRejectedError,
  type Processor,
  type ProcessorContext,
} from '../runtime/processor.ts';
import type { StreamRecord } from '../runtime/record.ts';
import type { KeyValueStore } from '../runtime/state-store.ts';

export interface CleanShipmentsOptions {
  /**
   * How long (event time) a DELIVERED or CANCELLED shipment's entry is kept after its last
   * change, to recognize redeliveries; then it is forgotten.
   */
  retentionMs: number;
  /** Told about every dropped redelivery (expected after a source crash, not an error). */
  onDuplicate?: (change: ShipmentChange) => void;
}

export const CLEAN_SHIPMENTS_DEFAULTS: CleanShipmentsOptions = { retentionMs: 24 * 3_600_000 };

export const CLEAN_SHIPMENTS_STORES = {
  /** shipment id → what the last applied change left. */
  shipments: 'shipments-lifecycle',
} as const;

/** The last change of a shipment this processor applied (or judged). */
export interface ShipmentLifecycleState {
  status: ShipmentStatus;
  changeSeq: number;
  commitLsn: number;
  lsn: number;
  /** Event time after which a finished shipment's entry goes (the store's time index). */
  forgetAt?: number | null;
}

/** The time index of the lifecycle store. */
export function lifecycleForgetAt(state: ShipmentLifecycleState): number | undefined {
  return state.forgetAt ?? undefined;
}

/**
 * A rejected change still moves the shipment's position (changeSeq, LSN) forward, but not its
 * status: its redelivery is then a duplicate rather than a second dead letter, and the next
 * change is judged from the last status that was valid.
 */
export class CleanShipmentsProcessor implements Processor<
  string,
  ShipmentChange,
  string,
  ShipmentChange
> {
  private readonly options: CleanShipmentsOptions;
  private context!: ProcessorContext<string, ShipmentChange>;
  private lifecycle!: KeyValueStore<string, ShipmentLifecycleState>;

  constructor(options: Partial<CleanShipmentsOptions> = {}) {
    this.options = { ...CLEAN_SHIPMENTS_DEFAULTS, ...options };
  }

  init(context: ProcessorContext<string, ShipmentChange>): void {
    this.context = context;
    this.lifecycle = context.getStateStore(CLEAN_SHIPMENTS_STORES.shipments);
  }

  process(record: StreamRecord<string, ShipmentChange>): void {
    const change = record.value;
    const shipmentId = record.key;
    const row = change.after ?? change.before;
    if (!row || row.shipmentId !== shipmentId) {
      throw new RecordRejectedError(
        'malformed-change',
        `${change.op} keyed "${shipmentId}" carries ${row ? `shipment ${row.shipmentId}` : 'no row'}`,
        { shipmentId, op: change.op },
      );
    }
    const last = this.lifecycle.get(shipmentId);
    // A DELETE's row is the before image, whose changeSeq is the last one applied: only its
    // WAL position tells a redelivery apart.
    const staleSeq =
      change.after !== null && last !== undefined && change.after.changeSeq <= last.changeSeq;
    if (last && (isDuplicateChange(last, change) || staleSeq)) {
      this.options.onDuplicate?.(change);
      return;
    }

    this.forgetFinished();
    if (change.op === 'DELETE') {
      this.lifecycle.delete(shipmentId);
      this.context.forward(record);
      return;
    }
    const after = change.after;
    if (!after) {
      throw new RecordRejectedError(
        'malformed-change',
        `${change.op} of ${shipmentId} has no after row`,
        {
          shipmentId,
          op: change.op,
        },
      );
    }
    const problem = this.problemWith(change.op, after, last, change.before);
    const status = problem ? (last?.status ?? after.status) : after.status;
    const mark: ShipmentLifecycleState = {
      status,
      changeSeq: after.changeSeq,
      commitLsn: change.source.commitLsn,
      lsn: change.source.lsn,
      forgetAt: isTerminal(status) ? record.timestamp + this.options.retentionMs : null,
    };
    this.lifecycle.put(shipmentId, mark);
    if (problem) {
      throw new RecordRejectedError('impossible-transition', `${shipmentId}: ${problem}`, {
        shipmentId,
        op: change.op,
        from: last?.status ?? change.before?.status ?? null,
        to: after.status,
        changeSeq: after.changeSeq,
        lastChangeSeq: last?.changeSeq ?? null,
      });
    }
    this.context.forward(record);
  }

  /** Forgets finished shipments whose retention has passed (task stream time). */
  private forgetFinished(): void {
    for (const id of this.lifecycle.keysBefore(this.context.streamTime)) this.lifecycle.delete(id);
  }

  /** Why this change cannot follow what the processor knows, or undefined when it can. */
  private problemWith(
    op: ShipmentChange['op'],
    after: Shipment,
    last: ShipmentLifecycleState | undefined,
    before: Shipment | null,
  ): string | undefined {
    // A snapshot row is the state of record at the slot's consistent point: nothing to judge.
    if (op === 'SNAPSHOT') return undefined;
    if (op === 'INSERT') {
      if (last)
        return `INSERT of a shipment already at ${last.status} (changeSeq ${last.changeSeq})`;
      return after.status === INITIAL_STATUS
        ? undefined
        : `a new shipment must start as ${INITIAL_STATUS}, not ${after.status}`;
    }
    if (!last) {
      // Nothing applied yet (the topic was read from after the snapshot): the before image
      // is the only history there is.
      return before ? transitionProblem(before.status, after.status) : undefined;
    }
    if (after.changeSeq !== last.changeSeq + 1) {
      return `changeSeq gap: ${last.changeSeq} → ${after.changeSeq} (${last.changeSeq + 1} missing)`;
    }
    return transitionProblem(last.status, after.status);
  }
}

function transitionProblem(from: ShipmentStatus, to: ShipmentStatus): string | undefined {
  if (from === to || isAllowedTransition(from, to)) return undefined;
  return `${from} → ${to} is not allowed`;
}
