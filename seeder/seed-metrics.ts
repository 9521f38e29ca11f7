// Prometheus metrics of a seed run, on a registry the caller owns (and serves, if it wants to).
import { Counter, Gauge, type Registry } from 'prom-client';
import { SHIPMENT_STATUSES } from '../schemas/types.ts';
import { FAULT_KINDS, type SeedStatisticsSnapshot } from './statistics.ts';

export class SeedMetrics {
  private readonly telemetrySent: Counter;
  private readonly rawSent: Counter;
  private readonly shipmentChanges: Counter<'status'>;
  private readonly faults: Counter<'kind'>;
  private readonly simulatedSeconds: Gauge;
  private readonly inFlight: Gauge;
  private last: SeedStatisticsSnapshot | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.telemetrySent = new Counter({
      name: 'continuum_seed_telemetry_sent_total',
      help: 'Telemetry events the simulator handed to the producer (faulty ones included)',
      registers,
    });
    this.rawSent = new Counter({
      name: 'continuum_seed_raw_payloads_sent_total',
      help: 'Malformed payloads the simulator sent as raw bytes',
      registers,
    });
    this.shipmentChanges = new Counter({
      name: 'continuum_seed_shipment_changes_total',
      help: 'Shipment rows inserted (CREATED) and changed, by the status changed to',
      labelNames: ['status'],
      registers,
    });
    this.faults = new Counter({
      name: 'continuum_seed_faults_injected_total',
      help: 'Faults injected into the telemetry stream, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.simulatedSeconds = new Gauge({
      name: 'continuum_seed_simulated_elapsed_seconds',
      help: 'Simulated time elapsed since the start of the run',
      registers,
    });
    this.inFlight = new Gauge({
      name: 'continuum_seed_shipments_in_flight',
      help: 'Shipments created and not yet delivered or cancelled',
      registers,
    });
    // Every series exists from the start, so rate() works before the first fault of a kind.
    for (const status of SHIPMENT_STATUSES) this.shipmentChanges.inc({ status }, 0);
    for (const kind of FAULT_KINDS) this.faults.inc({ kind }, 0);
  }

  /** Advances the counters to a statistics snapshot (counters only move forward by the difference). */
  observe(s: SeedStatisticsSnapshot): void {
    const prev = this.last;
    this.telemetrySent.inc(s.telemetrySent - (prev?.telemetrySent ?? 0));
    this.rawSent.inc(s.rawSent - (prev?.rawSent ?? 0));
    for (const status of SHIPMENT_STATUSES) {
      const delta = s.changesByStatus[status] - (prev?.changesByStatus[status] ?? 0);
      if (delta > 0) this.shipmentChanges.inc({ status }, delta);
    }
    for (const kind of FAULT_KINDS) {
      const delta = s.faults[kind] - (prev?.faults[kind] ?? 0);
      if (delta > 0) this.faults.inc({ kind }, delta);
    }
    this.simulatedSeconds.set(s.simulatedMs / 1000);
    this.inFlight.set(s.shipmentsInFlight);
    this.last = s;
  }
}
