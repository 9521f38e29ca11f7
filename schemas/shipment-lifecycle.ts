// The shipment lifecycle as one transition table: the simulator only makes these changes and
// the stream processor that cleans shipments.cdc enforces the same table.
import type { ShipmentStatus } from './types.ts';

export const SHIPMENT_TRANSITIONS: Readonly<Record<ShipmentStatus, readonly ShipmentStatus[]>> = {
  CREATED: ['ASSIGNED', 'CANCELLED'],
  ASSIGNED: ['PICKED_UP', 'CANCELLED'],
  PICKED_UP: ['IN_TRANSIT', 'EXCEPTION'],
  IN_TRANSIT: ['OUT_FOR_DELIVERY', 'EXCEPTION'],
  OUT_FOR_DELIVERY: ['DELIVERED', 'EXCEPTION'],
  // After the delay the trip resumes (re-entering OUT_FOR_DELIVERY when it was that close) or ends.
  EXCEPTION: ['IN_TRANSIT', 'OUT_FOR_DELIVERY', 'CANCELLED'],
  DELIVERED: [],
  CANCELLED: [],
};

export const INITIAL_STATUS: ShipmentStatus = 'CREATED';

export function isAllowedTransition(from: ShipmentStatus, to: ShipmentStatus): boolean {
  return SHIPMENT_TRANSITIONS[from].includes(to);
}

export function isTerminal(status: ShipmentStatus): boolean {
  return SHIPMENT_TRANSITIONS[status].length === 0;
}
