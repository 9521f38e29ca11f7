// The batch reduction both shipment-state sinks apply before writing: per shipment only the
// state with the highest version survives, so one flush writes each shipment at most once.
import type { UnifiedShipmentState } from '../../schemas/types.ts';

export class NewestPerShipment {
  private readonly states = new Map<string, UnifiedShipmentState>();

  /** Keeps `state` unless a state of the same shipment with an equal or higher version is held. */
  offer(state: UnifiedShipmentState): void {
    const held = this.states.get(state.shipmentId);
    if (held === undefined || state.version > held.version)
      this.states.set(state.shipmentId, state);
  }

  get size(): number {
    return this.states.size;
  }

  values(): UnifiedShipmentState[] {
    return [...this.states.values()];
  }

  clear(): void {
    this.states.clear();
  }
}
