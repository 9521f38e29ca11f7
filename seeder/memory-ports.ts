// In-memory implementations of the simulator's ports, for tests of the simulation logic and
// for dry runs: they apply the same rules as the real ones (change_seq, status preconditions).
import type { TelemetrySink } from '../connectors/telemetry-sdk/telemetry-sink.ts';
import type { Shipment, VehicleTelemetry } from '../schemas/types.ts';
import {
  ShipmentStoreError,
  type GroundTruth,
  type ShipmentStore,
  type ShipmentWrite,
} from './shipment-store.ts';

export type SentRecord =
  { kind: 'event'; event: VehicleTelemetry } | { kind: 'raw'; key: string; value: Buffer };

export class MemoryTelemetrySink implements TelemetrySink {
  readonly sent: SentRecord[] = [];
  flushes = 0;
  closed = false;

  send(event: VehicleTelemetry): Promise<void> {
    this.sent.push({ kind: 'event', event });
    return Promise.resolve();
  }

  sendRaw(key: string, value: Buffer): Promise<void> {
    this.sent.push({ kind: 'raw', key, value });
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.flushes += 1;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  get events(): VehicleTelemetry[] {
    return this.sent.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
  }
}

export class MemoryShipmentStore implements ShipmentStore {
  readonly rows = new Map<string, Shipment>();
  readonly groundTruth = new Map<string, GroundTruth>();
  readonly batches: (readonly ShipmentWrite[])[] = [];

  write(batch: readonly ShipmentWrite[]): Promise<void> {
    // All or nothing, like a transaction: validate against a copy, then swap in.
    const rows = new Map(this.rows);
    const truths = new Map(this.groundTruth);
    for (const w of batch) {
      if (w.op === 'insert') {
        if (rows.has(w.shipment.shipmentId))
          return Promise.reject(
            new ShipmentStoreError('duplicate shipment', {
              context: { shipmentId: w.shipment.shipmentId },
            }),
          );
        rows.set(w.shipment.shipmentId, { ...w.shipment });
      } else if (w.op === 'update') {
        const stored = rows.get(w.shipment.shipmentId);
        if (
          !stored ||
          stored.status !== w.previousStatus ||
          stored.changeSeq + 1 !== w.shipment.changeSeq
        )
          return Promise.reject(
            new ShipmentStoreError('the stored shipment is not the one the simulator changed', {
              context: { shipmentId: w.shipment.shipmentId },
            }),
          );
        rows.set(w.shipment.shipmentId, {
          ...stored,
          status: w.shipment.status,
          vehicleId: w.shipment.vehicleId,
          updatedAt: w.shipment.updatedAt,
          changeSeq: stored.changeSeq + 1,
        });
      } else {
        truths.set(w.truth.shipmentId, { ...w.truth });
      }
    }
    this.rows.clear();
    for (const [k, v] of rows) this.rows.set(k, v);
    this.groundTruth.clear();
    for (const [k, v] of truths) this.groundTruth.set(k, v);
    this.batches.push(batch);
    return Promise.resolve();
  }
}
