// Re-keys cleaned shipment changes by vehicle id for the repartition to the join, so a
// shipment meets its vehicle's telemetry in one task. Unassigned shipments keep their own id.
import type { ShipmentChange } from '../../schemas/types.ts';
import type { Processor, ProcessorContext } from '../runtime/processor.ts';
import type { StreamRecord } from '../runtime/record.ts';

/** A change on its way to the join, with where it came from (the join reports source offsets). */
export interface RoutedShipmentChange {
  /** `detach`: the shipment left the vehicle this record is keyed by. */
  kind: 'change' | 'detach';
  change: ShipmentChange;
  source: { topic: string; partition: number; offset: number };
}

/** The join's key of a shipment: its vehicle, or its own id while it has none. */
export function joinKey(shipmentId: string, vehicleId: string | null | undefined): string {
  return vehicleId ?? shipmentId;
}

export class KeyByVehicleProcessor implements Processor<
  string,
  ShipmentChange,
  string,
  RoutedShipmentChange
> {
  private context!: ProcessorContext<string, RoutedShipmentChange>;

  init(context: ProcessorContext<string, RoutedShipmentChange>): void {
    this.context = context;
  }

  process(record: StreamRecord<string, ShipmentChange>): void {
    const change = record.value;
    const meta = this.context.recordMetadata;
    const source = {
      topic: meta?.topic ?? '',
      partition: meta?.partition ?? this.context.partition,
      offset: Number(meta?.offset ?? -1),
    };
    const shipmentId = record.key;
    const from = joinKey(shipmentId, change.before?.vehicleId);
    const to = change.after ? joinKey(shipmentId, change.after.vehicleId) : undefined;
    // The task that held the shipment under its old key must let go of it; it hears that
    // before the new key's task could send it anything else.
    if (change.before && from !== to)
      this.context.forward({ ...record, key: from, value: { kind: 'detach', change, source } });
    if (to !== undefined)
      this.context.forward({ ...record, key: to, value: { kind: 'change', change, source } });
  }
}
