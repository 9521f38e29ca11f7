// What the API answers, as the dashboard reads it (the state's shape is the Avro contract's).
import type { ShipmentStatus, UnifiedShipmentState } from '../../../schemas/types.ts';

export type { ShipmentStatus, UnifiedShipmentState };

export const STATUSES: readonly ShipmentStatus[] = [
  'CREATED',
  'ASSIGNED',
  'PICKED_UP',
  'IN_TRANSIT',
  'OUT_FOR_DELIVERY',
  'DELIVERED',
  'EXCEPTION',
  'CANCELLED',
];

export interface ShipmentPage {
  items: UnifiedShipmentState[];
  nextCursor: string | null;
}

export interface Freshness {
  source: 'redis' | 'postgres';
  newestInputEventTime: number;
  ageMs: number;
  lag: { measuredAt: number | null; groups: { group: string; role: string; lag: number }[] };
}

export interface ShipmentLookup {
  state: UnifiedShipmentState;
  freshness: Freshness;
}

export interface PipelineQueryInfo {
  id: string;
  title: string;
  description: string;
  unit: 'records' | 'seconds' | 'records/s' | 'requests/s' | 'ratio';
  legend: string[];
}

export interface PipelineRange {
  query: PipelineQueryInfo;
  start: number;
  end: number;
  stepSeconds: number;
  timestamps: number[];
  series: { name: string; labels: Record<string, string>; values: (number | null)[] }[];
}
