// Redelivery after a crash: PostgreSQL resends every transaction whose commit the source had
// not yet confirmed, so a consumer may see a change twice. Each change carries its WAL
// position; a consumer drops a change whose (commitLsn, lsn) is not after the last it applied
// for the same shipment.
import type { ShipmentChange, SourcePosition } from './types.ts';

export type ChangeMark = Pick<SourcePosition, 'commitLsn' | 'lsn'>;

/** Orders two positions: by commit LSN (commit order), then by the change's own LSN within it. */
export function compareChangeMarks(a: ChangeMark, b: ChangeMark): number {
  if (a.commitLsn !== b.commitLsn) return a.commitLsn < b.commitLsn ? -1 : 1;
  if (a.lsn !== b.lsn) return a.lsn < b.lsn ? -1 : 1;
  return 0;
}

/**
 * True when `change` was already applied: its (commitLsn, lsn) is ≤ the last one applied for
 * its shipment (`lastSeen`, undefined when none was). Snapshot reads have lsn 0 and the slot's
 * consistent point as commitLsn, so they sort before every streamed change.
 */
export function isDuplicateChange(
  lastSeen: ChangeMark | undefined,
  change: Pick<ShipmentChange, 'source'>,
): boolean {
  if (lastSeen === undefined) return false;
  return compareChangeMarks(change.source, lastSeen) <= 0;
}
