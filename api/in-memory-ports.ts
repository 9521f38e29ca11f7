// In-memory implementations of the API's ports, for inject tests and the schema-fuzz smoke run:
// the same contracts as the adapters on Redis, PostgreSQL, MongoDB and Kafka, with no I/O.
import { TelemetryEncodeError } from '../connectors/telemetry-sdk/telemetry-producer.ts';
import type { UnifiedShipmentState, VehicleTelemetry } from '../schemas/types.ts';
import { ReplayJobs, type ReplayRunners } from '../replay/replay-jobs.ts';
import type {
  ApiDeps,
  DependencyProbe,
  DurableShipmentStates,
  FeedPosition,
  GroupLag,
  HotShipmentStates,
  ShipmentListFilter,
  StateChange,
  StateChangeFeed,
  StateSubscription,
  TelemetryHistory,
  TelemetryIngest,
  TelemetryReading,
  EtaModels,
  ModelsView,
  TrainingJobView,
} from './ports.ts';
import { InMemoryMetricsHistory } from './in-memory-metrics-history.ts';

function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(h));
}

export class InMemoryShipmentStates implements HotShipmentStates, DurableShipmentStates {
  readonly states = new Map<string, UnifiedShipmentState>();

  put(...states: UnifiedShipmentState[]): this {
    for (const s of states) this.states.set(s.shipmentId, s);
    return this;
  }

  get(shipmentId: string): Promise<UnifiedShipmentState | null> {
    return Promise.resolve(this.states.get(shipmentId) ?? null);
  }

  near(query: { lat: number; lon: number; radiusKm: number; limit: number }) {
    const found = [...this.states.values()]
      .filter(
        (s) =>
          s.lat !== null && s.lon !== null && s.status !== 'DELIVERED' && s.status !== 'CANCELLED',
      )
      .map((state) => ({
        distanceKm: haversineKm(query, { lat: state.lat as number, lon: state.lon as number }),
        state,
      }))
      .filter((n) => n.distanceKm <= query.radiusKm)
      .sort((a, b) => a.distanceKm - b.distanceKm)
      .slice(0, query.limit);
    return Promise.resolve(found);
  }

  list(
    filter: ShipmentListFilter,
    page: { after?: { stateUpdatedAt: number; shipmentId: string }; limit: number },
  ): Promise<UnifiedShipmentState[]> {
    const after = page.after;
    return Promise.resolve(
      [...this.states.values()]
        .filter(
          (s) =>
            (filter.status === undefined || s.status === filter.status) &&
            (filter.customerId === undefined || s.customerId === filter.customerId) &&
            (filter.vehicleId === undefined || s.vehicleId === filter.vehicleId) &&
            (filter.updatedSince === undefined || s.stateUpdatedAt >= filter.updatedSince) &&
            (after === undefined ||
              s.stateUpdatedAt > after.stateUpdatedAt ||
              (s.stateUpdatedAt === after.stateUpdatedAt && s.shipmentId > after.shipmentId)),
        )
        .sort(
          (a, b) => a.stateUpdatedAt - b.stateUpdatedAt || (a.shipmentId < b.shipmentId ? -1 : 1),
        )
        .slice(0, page.limit),
    );
  }
}

export class InMemoryTelemetryHistory implements TelemetryHistory {
  readonly readings: TelemetryReading[] = [];

  list(query: {
    vehicleId: string;
    from?: number;
    to?: number;
    after?: { eventTime: number; eventId: string };
    limit: number;
  }): Promise<TelemetryReading[]> {
    const after = query.after;
    return Promise.resolve(
      this.readings
        .filter(
          (r) =>
            r.vehicleId === query.vehicleId &&
            (query.from === undefined || r.eventTime >= query.from) &&
            (query.to === undefined || r.eventTime < query.to) &&
            (after === undefined ||
              r.eventTime > after.eventTime ||
              (r.eventTime === after.eventTime && r.eventId > after.eventId)),
        )
        .sort((a, b) => a.eventTime - b.eventTime || (a.eventId < b.eventId ? -1 : 1))
        .slice(0, query.limit),
    );
  }
}

/** A producer buffer of `capacity` events that never drains by itself (tests drain it). */
export class InMemoryTelemetryIngest implements TelemetryIngest {
  readonly sent: VehicleTelemetry[] = [];
  capacity: number;
  private reserved = 0;
  /** Event ids the "schema registry" refuses, to exercise per-item encode failures. */
  readonly unencodable = new Set<string>();

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  reserve(count: number): boolean {
    if (this.sent.length + this.reserved + count > this.capacity) return false;
    this.reserved += count;
    return true;
  }

  release(count: number): void {
    this.reserved -= count;
  }

  send(event: VehicleTelemetry): Promise<void> {
    if (this.unencodable.has(event.eventId))
      return Promise.reject(new TelemetryEncodeError('the registry refused the event'));
    this.sent.push(event);
    return Promise.resolve();
  }

  retryAfterSeconds(): number {
    return 2;
  }
}

/** Committed shipment.state records; subscriptions replay those after their position, then end. */
export class InMemoryStateFeed implements StateChangeFeed {
  readonly changes: StateChange[] = [];
  readonly partitions: number;

  constructor(partitions = 3) {
    this.partitions = partitions;
  }

  subscribe(options: { shipmentId?: string; from?: FeedPosition }): Promise<StateSubscription> {
    const start = new Map<number, number>();
    for (let p = 0; p < this.partitions; p++) {
      const last = Math.max(
        -1,
        ...this.changes.filter((c) => c.partition === p).map((c) => c.offset),
      );
      // Without a position a subscription starts at the end: only new changes.
      start.set(p, options.from?.get(p) ?? (options.from ? -1 : last));
    }
    const pending = this.changes.filter(
      (c) =>
        c.offset > (start.get(c.partition) ?? -1) &&
        (options.shipmentId === undefined || c.state.shipmentId === options.shipmentId),
    );
    let endReason: StateSubscription['endReason'];
    return Promise.resolve({
      start,
      get endReason() {
        return endReason;
      },
      next: () => {
        const change = pending.shift();
        if (change) return Promise.resolve(change);
        endReason ??= 'feed-stopped';
        return Promise.resolve(null);
      },
      close: () => {
        endReason ??= 'closed';
        pending.length = 0;
      },
    });
  }
}

/** The trainer and MLflow in memory: requests become jobs once per id; versions as put. */
export class InMemoryEtaModels implements EtaModels {
  readonly jobs = new Map<string, TrainingJobView>();
  view: ModelsView = { modelName: 'eta', champion: null, versions: [] };
  /** Set to make every call fail as an unreachable trainer would. */
  down: Error | undefined;

  train(request: { requestId: string; requestedBy: string }) {
    if (this.down) return Promise.reject(this.down);
    const known = this.jobs.get(request.requestId);
    if (known) return Promise.resolve({ job: known, created: false });
    const job: TrainingJobView = {
      requestId: request.requestId,
      trigger: 'on-demand',
      requestedBy: request.requestedBy,
      requestedAt: 1_796_460_000_000,
      status: 'queued',
      finishedAt: null,
      runId: null,
      modelVersion: null,
      promoted: null,
      reason: null,
      metrics: null,
    };
    this.jobs.set(request.requestId, job);
    return Promise.resolve({ job, created: true });
  }

  trainingJob(requestId: string): Promise<TrainingJobView | null> {
    if (this.down) return Promise.reject(this.down);
    return Promise.resolve(this.jobs.get(requestId) ?? null);
  }

  models(limit: number): Promise<ModelsView> {
    if (this.down) return Promise.reject(this.down);
    return Promise.resolve({ ...this.view, versions: this.view.versions.slice(0, limit) });
  }
}

export interface InMemoryDeps extends ApiDeps {
  metricsHistory: InMemoryMetricsHistory;
  shipments: InMemoryShipmentStates;
  telemetryHistory: InMemoryTelemetryHistory;
  ingest: InMemoryTelemetryIngest;
  feed: InMemoryStateFeed;
  lagGroups: GroupLag[];
  ml: InMemoryEtaModels;
}

export function inMemoryDeps(
  runners: ReplayRunners,
  probes: readonly DependencyProbe[] = [],
): InMemoryDeps {
  const shipments = new InMemoryShipmentStates();
  const lagGroups: GroupLag[] = [];
  return {
    shipments,
    hot: shipments,
    durable: shipments,
    telemetryHistory: new InMemoryTelemetryHistory(),
    ingest: new InMemoryTelemetryIngest(),
    lag: { current: () => ({ measuredAt: lagGroups.length > 0 ? 1 : null, groups: lagGroups }) },
    lagGroups,
    feed: new InMemoryStateFeed(),
    replays: new ReplayJobs(runners),
    probes,
    ml: new InMemoryEtaModels(),
    metricsHistory: new InMemoryMetricsHistory(),
  };
}
