// What the API needs from the rest of the platform, as small interfaces: adapters/ implements
// them on Redis, PostgreSQL, MongoDB and Kafka; inject tests pass in-memory fakes.
import type { ShipmentStatus, UnifiedShipmentState, VehicleTelemetry } from '../schemas/types.ts';
import type { ReplayJobs } from '../replay/replay-jobs.ts';
import type { DependencyProbe } from '../core/dependency-probes.ts';
import { ContinuumError } from '../core/errors.ts';

/** The hot store (Redis): lookups by id and the GEO index. */
export interface HotShipmentStates {
  get(shipmentId: string): Promise<UnifiedShipmentState | null>;
  near(query: {
    lat: number;
    lon: number;
    radiusKm: number;
    limit: number;
  }): Promise<{ distanceKm: number; state: UnifiedShipmentState }[]>;
}

export interface ShipmentListFilter {
  status?: ShipmentStatus;
  customerId?: string;
  vehicleId?: string;
  /** Only states whose newest input is at or after this time (epoch ms). */
  updatedSince?: number;
}

/** Position in the list order (stateUpdatedAt, shipmentId): the last item of a page. */
export interface ShipmentCursor {
  stateUpdatedAt: number;
  shipmentId: string;
}

/** The durable store (PostgreSQL): lookups when Redis misses, filtered lists. */
export interface DurableShipmentStates {
  get(shipmentId: string): Promise<UnifiedShipmentState | null>;
  /** Up to `limit` states after `after`, in (stateUpdatedAt, shipmentId) order. */
  list(
    filter: ShipmentListFilter,
    page: { after?: ShipmentCursor; limit: number },
  ): Promise<UnifiedShipmentState[]>;
}

export interface TelemetryReading {
  eventId: string;
  vehicleId: string;
  eventTime: number;
  lat: number;
  lon: number;
  speedKmh: number;
  headingDeg: number;
  fuelPct: number;
  engineTempC: number;
  odometerKm: number;
  source: { topic: string; partition: number; offset: string };
}

export interface TelemetryCursor {
  eventTime: number;
  eventId: string;
}

/** Telemetry history (MongoDB), in (eventTime, eventId) order. */
export interface TelemetryHistory {
  list(query: {
    vehicleId: string;
    from?: number;
    to?: number;
    after?: TelemetryCursor;
    limit: number;
  }): Promise<TelemetryReading[]>;
}

/** Telemetry ingestion through the producer SDK, with a bounded buffer. */
export interface TelemetryIngest {
  /**
   * Reserves room for `count` events in the producer's buffer; false when it has not that much
   * room (the caller answers 503 rather than queueing). Release what was reserved with `release`.
   */
  reserve(count: number): boolean;
  release(count: number): void;
  /** Encodes and buffers one event; throws a TelemetryEncodeError when the schema refuses it. */
  send(event: VehicleTelemetry): Promise<void>;
  /** Seconds after which the buffer is likely to have room again. */
  retryAfterSeconds(): number;
}

export interface GroupLag {
  group: string;
  role: string;
  lag: number;
}

/** Consumer lag of the groups that produce the state, measured in the background. */
export interface StateLag {
  current(): { measuredAt: number | null; groups: GroupLag[] };
}

/** One record of shipment.state, decoded, with where it is in the topic. */
export interface StateChange {
  partition: number;
  offset: number;
  state: UnifiedShipmentState;
}

/** Per partition, the offset of the last record already delivered (-1: none). */
export type FeedPosition = ReadonlyMap<number, number>;

export interface StateSubscription {
  /** Where the stream starts: the position to send as the first event id. */
  readonly start: FeedPosition;
  /** Resolves with the next change, or null when the subscription ended (close or overflow). */
  next(): Promise<StateChange | null>;
  /** Why it ended, once next() returned null. */
  readonly endReason: 'closed' | 'overflow' | 'feed-stopped' | undefined;
  close(): void;
}

/** Changes of shipment.state as they are committed, resumable from a position. */
export interface StateChangeFeed {
  /** `from`: continue after these offsets (partitions not named start at the live end). */
  subscribe(options: { shipmentId?: string; from?: FeedPosition }): Promise<StateSubscription>;
}

/** One real request to a service a process depends on (/ready). */
export type { DependencyProbe };

/** A range query's answer on a shared time grid: one value per grid point, null where none. */
export interface MetricSeries {
  labels: Record<string, string>;
  values: (number | null)[];
}

/** Prometheus, read only: the pipeline page's charts (named queries, never client PromQL). */
export interface MetricsHistory {
  queryRange(
    expr: string,
    range: { start: number; end: number; stepSeconds: number },
  ): Promise<{ timestamps: number[]; series: MetricSeries[] }>;
}

/** What the dashboard's routes need beside the state (issue 12). */
export interface DashboardDeps {
  metricsHistory: MetricsHistory;
}

export interface ApiDeps extends DashboardDeps {
  hot: HotShipmentStates;
  durable: DurableShipmentStates;
  telemetryHistory: TelemetryHistory;
  ingest: TelemetryIngest;
  lag: StateLag;
  feed: StateChangeFeed;
  replays: ReplayJobs;
  probes: readonly DependencyProbe[];
  ml: EtaModels;
}

// ---- ETA model (issue 11) ---------------------------------------------------------------

/** A training request as the trainer reports it (ml/eta-trainer.ts TrainingJob). */
export interface TrainingJobView {
  requestId: string;
  trigger: 'window' | 'on-demand';
  requestedBy: string;
  /** Epoch ms (0 when found only in MLflow). */
  requestedAt: number;
  status: 'queued' | 'running' | 'succeeded' | 'skipped' | 'failed';
  finishedAt: number | null;
  runId: string | null;
  modelVersion: number | null;
  promoted: boolean | null;
  reason: string | null;
  metrics: Record<string, number> | null;
}

/** One registered version of the ETA model (MLflow's registry) with its run's metrics. */
export interface ModelVersionView {
  version: number;
  runId: string | null;
  createdAt: number | null;
  status: string;
  algorithm: string | null;
  champion: boolean;
  metrics: Record<string, number>;
  description: string;
}

export interface ModelsView {
  modelName: string;
  /** The version with alias `champion` (what the join serves), null before the first. */
  champion: number | null;
  /** Newest first. */
  versions: ModelVersionView[];
}

/** The trainer (`continuum ml`) cannot be reached, or MLflow cannot. */
export class MlUnavailableError extends ContinuumError {
  override readonly code = 'ML_UNAVAILABLE';
}

/** The ETA trainer and its model registry. */
export interface EtaModels {
  /** Asks for a training; with a request id seen before, the earlier job (no second run). */
  train(request: { requestId: string; requestedBy: string }): Promise<{
    job: TrainingJobView;
    created: boolean;
  }>;
  trainingJob(requestId: string): Promise<TrainingJobView | null>;
  /** The newest `limit` versions. */
  models(limit: number): Promise<ModelsView>;
}
