// Example values of the API's contracts, shared by the inject tests and the fuzz smoke run.
import type { UnifiedShipmentState, VehicleTelemetry } from '../schemas/types.ts';

export const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);

export function shipmentState(overrides: Partial<UnifiedShipmentState> = {}): UnifiedShipmentState {
  return {
    shipmentId: 'SHP-000001',
    customerId: 'CUS-1',
    originId: 'DEPOT-1',
    destinationId: 'CITY-1',
    status: 'IN_TRANSIT',
    promisedAt: T0 + 3_600_000,
    createdAt: T0 - 3_600_000,
    updatedAt: T0 - 60_000,
    vehicleId: 'VEH-001',
    lat: 52.52,
    lon: 13.405,
    positionTime: T0,
    speedKmh: 42.5,
    fuelPct: 61,
    engineTempC: 88,
    distanceTravelledKm: 12.3,
    distanceRemainingKm: 7.7,
    predictedArrival: T0 + 1_200_000,
    predictionLow: T0 + 900_000,
    predictionHigh: T0 + 1_500_000,
    modelVersion: 'baseline-v1',
    version: 3_000_001,
    sourceOffsets: { 'shipments.cdc-0': 12, 'telemetry.clean-0': 340 },
    sourceLsn: 123_456,
    stateUpdatedAt: T0,
    ...overrides,
  };
}

export function telemetryReading(overrides: Partial<VehicleTelemetry> = {}): VehicleTelemetry {
  return {
    eventId: '0b5f8c1e-5d3a-4a57-9a53-2f0f2c1d9e01',
    vehicleId: 'VEH-001',
    eventTime: T0,
    lat: 52.52,
    lon: 13.405,
    speed: 42.5,
    speedUnit: 'KMH',
    headingDeg: 90,
    fuelPct: 61,
    engineTemp: 88,
    temperatureUnit: 'CELSIUS',
    odometerKm: 120_000.5,
    ...overrides,
  };
}
