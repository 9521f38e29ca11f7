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
