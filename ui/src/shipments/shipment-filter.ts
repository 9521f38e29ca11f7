// Which shipments the list shows: a status, and a search over ids, customer, vehicle and
// destination (case-insensitive substring).
import type { ShipmentStatus, UnifiedShipmentState } from '../api/types.ts';

export interface ShipmentFilter {
  status: ShipmentStatus | null;
  query: string;
}

export function matches(state: UnifiedShipmentState, filter: ShipmentFilter): boolean {
  if (filter.status && state.status !== filter.status) return false;
  const q = filter.query.trim().toLowerCase();
  if (!q) return true;
  return [
    state.shipmentId,
    state.customerId,
    state.vehicleId ?? '',
    state.destinationId,
    state.originId,
  ].some((field) => field.toLowerCase().includes(q));
}

export function countByStatus(
  states: readonly UnifiedShipmentState[],
): Map<ShipmentStatus, number> {
  const counts = new Map<ShipmentStatus, number>();
  for (const s of states) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return counts;
}
