// Test fixtures (used by the clean and join tests only): shipment rows and CDC changes as the
// PostgreSQL source writes them, with a WAL position that grows with every change.
import type { ChangeOp, Shipment, ShipmentChange } from '../../schemas/types.ts';

export const FIXTURE_T0 = Date.UTC(2026, 0, 5, 8, 0);

/** Cologne → Düsseldorf. */
export function shipmentRow(overrides: Partial<Shipment> = {}): Shipment {
  return {
    shipmentId: 'SHP-1',
    customerId: 'C-1',
    originId: 'DEPOT-CGN',
    originLat: 50.9375,
    originLon: 6.9603,
    destinationId: 'DUS',
    destinationLat: 51.2277,
    destinationLon: 6.7735,
    vehicleId: null,
    status: 'CREATED',
    weightKg: 120,
    promisedAt: FIXTURE_T0 + 4 * 3_600_000,
    createdAt: FIXTURE_T0,
    updatedAt: FIXTURE_T0,
    changeSeq: 1,
    ...overrides,
  };
}

/** Builds one shipment's changes in commit order: each call is the next committed change. */
export class ChangeLog {
  private lsn = 1_000;
  private current: Shipment | null = null;

  /** The row as of the last change. */
  get row(): Shipment | null {
    return this.current;
  }

  insert(overrides: Partial<Shipment> = {}): ShipmentChange {
    return this.next('INSERT', shipmentRow(overrides));
  }

  snapshot(overrides: Partial<Shipment> = {}): ShipmentChange {
    const row = shipmentRow(overrides);
    this.current = row;
    return {
      op: 'SNAPSHOT',
      before: null,
      after: row,
      source: this.position(0, 500, true),
      commitTime: row.updatedAt,
    };
  }

  /** The next UPDATE: bumps changeSeq, sets updatedAt to `at`. */
  update(at: number, overrides: Partial<Shipment>): ShipmentChange {
    const before = this.current ?? shipmentRow();
    return this.next('UPDATE', {
      ...before,
      ...overrides,
      updatedAt: at,
      changeSeq: before.changeSeq + 1,
    });
  }

  /** An UPDATE that skips `missing` changeSeq values (as if changes were lost). */
  updateSkipping(missing: number, at: number, overrides: Partial<Shipment>): ShipmentChange {
    const before = this.current ?? shipmentRow();
    return this.next('UPDATE', {
      ...before,
      ...overrides,
      updatedAt: at,
      changeSeq: before.changeSeq + 1 + missing,
    });
  }

  delete(): ShipmentChange {
    const before = this.current ?? shipmentRow();
    this.lsn += 100;
    this.current = null;
    return {
      op: 'DELETE',
      before,
      after: null,
      source: this.position(this.lsn, this.lsn + 10, false),
      commitTime: before.updatedAt,
    };
  }

  private next(op: ChangeOp, after: Shipment): ShipmentChange {
    this.lsn += 100;
    const before = op === 'INSERT' ? null : this.current;
    this.current = after;
    return {
      op,
      before,
      after,
      source: this.position(this.lsn, this.lsn + 10, false),
      commitTime: after.updatedAt,
    };
  }

  private position(lsn: number, commitLsn: number, snapshot: boolean): ShipmentChange['source'] {
    return { lsn, commitLsn, txId: commitLsn, table: 'public.shipments', snapshot };
  }
}
