// Features of a trip at one moment, shared by the ETA predictor (serving) and the delivery
// examples (training) so both see the same numbers.

export interface TripFeatures {
  distanceRemainingKm: number;
  distanceTravelledKm: number;
  speedKmh: number;
  /** Distance travelled ÷ time since pickup; 0 right at pickup. */
  avgSpeedKmh: number;
  /** Hour, 0–23, UTC (as the DeliveryExample contract says; a fixed zone offset is the model's to learn). */
  hourOfDay: number;
  /** Day, 0 = Sunday … 6 = Saturday, UTC. */
  dayOfWeek: number;
  /** Minutes since pickup. */
  elapsedMin: number;
}

export function tripFeatures(input: {
  at: number;
  pickedUpAt: number;
  distanceRemainingKm: number;
  distanceTravelledKm: number;
  speedKmh: number;
}): TripFeatures {
  const elapsedMin = Math.max(0, (input.at - input.pickedUpAt) / 60_000);
  const utc = new Date(input.at);
  return {
    distanceRemainingKm: input.distanceRemainingKm,
    distanceTravelledKm: input.distanceTravelledKm,
    speedKmh: input.speedKmh,
    avgSpeedKmh: elapsedMin > 0 ? round3(input.distanceTravelledKm / (elapsedMin / 60)) : 0,
    hourOfDay: utc.getUTCHours(),
    dayOfWeek: utc.getUTCDay(),
    elapsedMin: round3(elapsedMin),
  };
}

/** Features are measurements, not float noise. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
