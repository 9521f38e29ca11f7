// What a seed run did: events by type and injected faults by kind. Depends only on the seed and
// the options (wall-clock figures live in the run report), so two runs compare with toEqual.
import { formatTable } from '../core/table.ts';
import { SHIPMENT_STATUSES, type ShipmentStatus } from '../schemas/types.ts';

export const FAULT_KINDS = [
  'duplicate',
  'out-of-order',
  'late',
  'gps-jump',
  'impossible-value',
  'unit-mph',
  'unit-fahrenheit',
  'malformed-random-bytes',
  'malformed-bad-magic',
  'malformed-truncated',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SeedStatisticsSnapshot {
  shipmentsCreated: number;
  /** Status changes written, by the status changed to (CREATED counts the inserts). */
  changesByStatus: Record<ShipmentStatus, number>;
  /** Shipments not DELIVERED or CANCELLED when the run ended. */
  shipmentsInFlight: number;
  /** Readings the vehicles produced (one per vehicle per telemetry interval). */
  telemetryReadings: number;
  /** Events handed to `send` (readings, duplicates and held-back events). */
  telemetrySent: number;
  /** Payloads handed to `sendRaw` (malformed). */
  rawSent: number;
  faults: Record<FaultKind, number>;
  storeTransactions: number;
  refuels: number;
  simulatedMs: number;
}

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export class SeedStatistics {
  shipmentsCreated = 0;
  readonly changesByStatus: Record<ShipmentStatus, number> = zeroes(SHIPMENT_STATUSES);
  shipmentsInFlight = 0;
  telemetryReadings = 0;
  telemetrySent = 0;
  rawSent = 0;
  readonly faults: Record<FaultKind, number> = zeroes(FAULT_KINDS);
  storeTransactions = 0;
  refuels = 0;
  simulatedMs = 0;

  fault(kind: FaultKind): void {
    this.faults[kind] += 1;
  }

  get faultsTotal(): number {
    return FAULT_KINDS.reduce((sum, k) => sum + this.faults[k], 0);
  }

  snapshot(): SeedStatisticsSnapshot {
    return {
      shipmentsCreated: this.shipmentsCreated,
      changesByStatus: { ...this.changesByStatus },
      shipmentsInFlight: this.shipmentsInFlight,
      telemetryReadings: this.telemetryReadings,
      telemetrySent: this.telemetrySent,
      rawSent: this.rawSent,
      faults: { ...this.faults },
      storeTransactions: this.storeTransactions,
      refuels: this.refuels,
      simulatedMs: this.simulatedMs,
    };
  }
}

export function formatStatistics(s: SeedStatisticsSnapshot): string {
  const rows: string[][] = [
    ['shipments', 'created', String(s.shipmentsCreated)],
    ...SHIPMENT_STATUSES.filter((st) => st !== 'CREATED').map((st) => [
      'shipment changes',
      `→ ${st}`,
      String(s.changesByStatus[st]),
    ]),
    ['shipments', 'in flight at the end', String(s.shipmentsInFlight)],
    ['telemetry', 'readings', String(s.telemetryReadings)],
    ['telemetry', 'events sent', String(s.telemetrySent)],
    ['telemetry', 'raw payloads sent', String(s.rawSent)],
    ...FAULT_KINDS.map((k) => ['fault', k, String(s.faults[k])]),
    ['vehicles', 'refuels', String(s.refuels)],
    ['store', 'transactions', String(s.storeTransactions)],
    ['run', 'simulated hours', (s.simulatedMs / 3_600_000).toFixed(2)],
  ];
  return formatTable(['WHAT', 'KIND', 'COUNT'], rows);
}
