// A shipment's changes as a timeline: consecutive states of the same status are one entry (a
// trip sends a state per reading), with when it began and ended and how the ETA moved.
import type { ShipmentStatus, UnifiedShipmentState } from '../api/types.ts';

export interface TimelineEntry {
  status: ShipmentStatus;
  /** Event time of the first and last state of the run (stateUpdatedAt). */
  from: number;
  to: number;
  updates: number;
  etaFirst: number | null;
  etaLast: number | null;
  modelVersion: string | null;
}

export function timelineOf(states: readonly UnifiedShipmentState[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const ordered = [...states].sort((a, b) => a.version - b.version);
  for (const s of ordered) {
    const last = entries.at(-1);
    if (last && last.status === s.status) {
      last.to = s.stateUpdatedAt;
      last.updates += 1;
      last.etaLast = s.predictedArrival;
      last.modelVersion = s.modelVersion ?? last.modelVersion;
      continue;
    }
    entries.push({
      status: s.status,
      from: s.stateUpdatedAt,
      to: s.stateUpdatedAt,
      updates: 1,
      etaFirst: s.predictedArrival,
      etaLast: s.predictedArrival,
      modelVersion: s.modelVersion,
    });
  }
  return entries;
}
