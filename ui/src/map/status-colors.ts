// One colour per shipment status, shared by the map, the list and the legend (each has a text
// label too: colour is never the only way to tell statuses apart).
import type { ShipmentStatus } from '../api/types.ts';

export const STATUS_COLORS: Record<ShipmentStatus, string> = {
  CREATED: '#8a8f98',
  ASSIGNED: '#6b5bd6',
  PICKED_UP: '#2f7ed8',
  IN_TRANSIT: '#0f8b8d',
  OUT_FOR_DELIVERY: '#d08a00',
  DELIVERED: '#2e8b3a',
  EXCEPTION: '#c2362f',
  CANCELLED: '#5c5f66',
};
