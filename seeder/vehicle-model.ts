// Vehicle physics of the simulator: speed by road class, hour of day and congestion; diesel burn;
// an engine temperature that warms towards ~90 °C (more under load) and cools when switched off.
import type { Random } from './random.ts';
import { FREE_FLOW_KMH, type RoadClass, type VehicleType } from './world.ts';

/** The world is in Germany; rush hours are local (CET, UTC+1) and a fixed offset is close enough. */
export const LOCAL_UTC_OFFSET_HOURS = 1;
export const AMBIENT_CELSIUS = 12;
export const ENGINE_NORMAL_CELSIUS = 88;

const RUSH_FACTOR: Readonly<Record<RoadClass, number>> = {
  motorway: 0.7,
  highway: 0.65,
  urban: 0.5,
};

export function localHour(epochMs: number): number {
  return (((epochMs / 3_600_000 + LOCAL_UTC_OFFSET_HOURS) % 24) + 24) % 24;
}

export function isRushHour(epochMs: number): boolean {
  const h = localHour(epochMs);
  return (h >= 7 && h < 9) || (h >= 16 && h < 19);
}

/** Speed multiplier of the hour: rush hours are slower, nights a little faster in town. */
export function hourFactor(roadClass: RoadClass, epochMs: number): number {
  if (isRushHour(epochMs)) return RUSH_FACTOR[roadClass];
  const h = localHour(epochMs);
  if (roadClass === 'urban' && (h >= 22 || h < 5)) return 1.2;
  return 1;
}

/**
 * Mean-reverting congestion multiplier (1 = free flow) with rare jams: drawn once per tick per
 * vehicle so traffic persists for a while instead of flickering.
 */
export function nextCongestion(rng: Random, current: number, tickMs: number): number {
  const minutes = tickMs / 60_000;
  const jamChance = 0.004 * minutes;
  if (rng.bernoulli(jamChance)) return rng.uniform(0.25, 0.5);
  const reversion = Math.min(1, 0.08 * minutes);
  const next = current + reversion * (1 - current) + rng.normal(0, 0.03 * Math.sqrt(minutes));
  return Math.min(1.1, Math.max(0.2, next));
}

export function drivingSpeedKmh(
  type: VehicleType,
  roadClass: RoadClass,
  epochMs: number,
  congestion: number,
): number {
  const freeFlow = Math.min(FREE_FLOW_KMH[roadClass], type.maxSpeedKmh);
  return Math.max(
    5,
    Math.min(type.maxSpeedKmh, freeFlow * hourFactor(roadClass, epochMs) * congestion),
  );
}

/** Load in [0, 1]: how hard the engine works at this speed with this cargo. */
export function engineLoad(type: VehicleType, speedKmh: number, cargoKg: number): number {
  const cargo = Math.min(1, cargoKg / type.capacityKg);
  return Math.min(1, (speedKmh / type.maxSpeedKmh) * (0.6 + 0.4 * cargo));
}

/** Diesel for `km` of driving: stop-and-go town traffic and heavy cargo cost more. */
export function drivingLiters(
  type: VehicleType,
  roadClass: RoadClass,
  km: number,
  cargoKg: number,
): number {
  const roadFactor = roadClass === 'urban' ? 1.3 : roadClass === 'highway' ? 1.05 : 1;
  const cargoFactor = 1 + 0.35 * Math.min(1, cargoKg / type.capacityKg);
  return (type.litersPer100Km / 100) * km * roadFactor * cargoFactor;
}

export function idleLiters(type: VehicleType, ms: number): number {
  return (type.idleLitersPerHour * ms) / 3_600_000;
}

/** First-order approach to the target temperature: ~6 min to warm up, ~25 min to cool down. */
export function engineTempAfter(
  currentCelsius: number,
  engineOn: boolean,
  load: number,
  ms: number,
): number {
  const target = engineOn ? ENGINE_NORMAL_CELSIUS + 12 * load : AMBIENT_CELSIUS;
  const tauMs = (engineOn ? 6 : 25) * 60_000;
  return target + (currentCelsius - target) * Math.exp(-ms / tauMs);
}
