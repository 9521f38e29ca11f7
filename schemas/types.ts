// TypeScript shapes of the Avro contracts in schemas/avro. Times (`timestamp-millis`) are epoch
// milliseconds. A test fails when these and the .avsc files drift apart.

export const SHIPMENT_STATUSES = [
  'CREATED',
  'ASSIGNED',
  'PICKED_UP',
  'IN_TRANSIT',
  'OUT_FOR_DELIVERY',
  'DELIVERED',
  'EXCEPTION',
  'CANCELLED',
] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export const CHANGE_OPS = ['SNAPSHOT', 'INSERT', 'UPDATE', 'DELETE'] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

/** A row of the PostgreSQL `shipments` table. */
export interface Shipment {
  shipmentId: string;
  customerId: string;
  originId: string;
  originLat: number;
  originLon: number;
  destinationId: string;
  destinationLat: number;
  destinationLon: number;
  vehicleId: string | null;
  status: ShipmentStatus;
  weightKg: number;
  promisedAt: number;
  createdAt: number;
  updatedAt: number;
  changeSeq: number;
}

export interface SourcePosition {
  lsn: number;
  commitLsn: number;
  txId: number;
  table: string;
  snapshot: boolean;
}

/** One committed change of a `shipments` row (topic shipments.cdc, key = shipment id). */
export interface ShipmentChange {
  op: ChangeOp;
  before: Shipment | null;
  after: Shipment | null;
  source: SourcePosition;
  commitTime: number;
}

export const SPEED_UNITS = ['KMH', 'MPH'] as const;
export type SpeedUnit = (typeof SPEED_UNITS)[number];
export const TEMPERATURE_UNITS = ['CELSIUS', 'FAHRENHEIT'] as const;
export type TemperatureUnit = (typeof TEMPERATURE_UNITS)[number];

/** One sensor reading of a vehicle (topics telemetry.raw and telemetry.clean, key = vehicle id). */
export interface VehicleTelemetry {
  eventId: string;
  vehicleId: string;
  eventTime: number;
  lat: number;
  lon: number;
  speed: number;
  speedUnit: SpeedUnit;
  headingDeg: number;
  fuelPct: number;
  engineTemp: number;
  temperatureUnit: TemperatureUnit;
  odometerKm: number;
}

/**
 * Everything known about one shipment (topic shipment.state, key = shipment id). Telemetry
 * fields are null until the vehicle's first reading; prediction fields null until a model ran.
 */
export interface UnifiedShipmentState {
  shipmentId: string;
  customerId: string;
  originId: string;
  destinationId: string;
  status: ShipmentStatus;
  promisedAt: number;
  createdAt: number;
  updatedAt: number;
  vehicleId: string | null;
  lat: number | null;
  lon: number | null;
  positionTime: number | null;
  speedKmh: number | null;
  fuelPct: number | null;
  engineTempC: number | null;
  distanceTravelledKm: number;
  distanceRemainingKm: number;
  predictedArrival: number | null;
  predictionLow: number | null;
  predictionHigh: number | null;
  modelVersion: string | null;
  version: number;
  /** `<topic>-<partition>` → offset of the latest input record reflected. */
  sourceOffsets: Record<string, number>;
  sourceLsn: number;
  stateUpdatedAt: number;
}

/** The features of a trip at one moment, with the label `minutesToArrival`. */
export interface DeliveryCheckpoint {
  checkpointTime: number;
  distanceRemainingKm: number;
  distanceTravelledKm: number;
  speedKmh: number;
  avgSpeedKmh: number;
  hourOfDay: number;
  dayOfWeek: number;
  elapsedMin: number;
  minutesToArrival: number;
}

/** A completed delivery as training data (topic deliveries.completed, key = shipment id). */
export interface DeliveryExample {
  shipmentId: string;
  vehicleId: string;
  originId: string;
  destinationId: string;
  promisedAt: number;
  actualArrival: number;
  checkpoints: DeliveryCheckpoint[];
}

export const ETA_MODEL_KINDS = ['BASELINE', 'LINEAR_REGRESSION', 'TREE_ENSEMBLE'] as const;
export type EtaModelKind = (typeof ETA_MODEL_KINDS)[number];

/** A trained ETA model (topic eta.models, key = model name). */
export interface EtaModel {
  modelName: string;
  version: number;
  kind: EtaModelKind;
  featureNames: string[];
  coefficients: number[];
  intercept: number;
  metrics: Record<string, number>;
  mlflowRunId: string | null;
  trainedAt: number;
  trainingExamples: number;
  /**
   * Added in issue 11 with a default: a record written before has no such field when decoded
   * with its writer's schema (as the registry client does), so readers treat undefined as [].
   */
  trees: EtaTree[];
  /** Added in issue 11 (default null; undefined in records written before, see `trees`). */
  interval: EtaInterval | null;
}

/** One regression tree of an EtaModel, as parallel arrays over its nodes (node 0 is the root). */
export interface EtaTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

/** A split-conformal interval scaled with the prediction (see eta-model.avsc). */
export interface EtaInterval {
  coverage: number;
  lowerScore: number;
  upperScore: number;
  scaleOffsetMinutes: number;
  measuredCoverage: number;
}
