// The route-and-hour baseline: Σ km ÷ Σ hours of the finest group with enough history.
import { distanceOverSpeedBaseline, RouteHourSpeedBaseline } from './baselines.ts';
import { checkpointFeatures, type TrainingRow } from './features.ts';

function row(
  origin: string,
  destination: string,
  hour: number,
  km: number,
  minutes: number,
): TrainingRow {
  const checkpoint = {
    checkpointTime: Date.UTC(2026, 0, 5, hour, 0),
    distanceRemainingKm: km,
    distanceTravelledKm: 0,
    speedKmh: 0,
    avgSpeedKmh: 0,
    hourOfDay: hour,
    dayOfWeek: 1,
    elapsedMin: 0,
    minutesToArrival: minutes,
  };
  return {
    features: checkpointFeatures(checkpoint),
    label: minutes,
    checkpoint,
    delivery: { shipmentId: 's', originId: origin, destinationId: destination, actualArrival: 0 },
  };
}

describe('RouteHourSpeedBaseline', () => {
  const history = [
    row('A', 'B', 7, 40, 60), // 40 km/h on A>B at 7
    row('A', 'B', 9, 90, 60), // 90 km/h on A>B at 9
    row('C', 'D', 7, 10, 60), // 10 km/h on C>D at 7
  ];
  const baseline = RouteHourSpeedBaseline.fit(history);

  it("uses the route's speed at that hour", () => {
    expect(baseline.speedKmh(row('A', 'B', 7, 20, 0))).toBe(40);
    expect(baseline.predict(row('A', 'B', 9, 45, 0))).toBe(30);
  });

  it('falls back to the route at any hour, then the hour on any route, then everything', () => {
    expect(baseline.speedKmh(row('A', 'B', 12, 1, 0))).toBe(65); // 130 km in 2 h
    expect(baseline.speedKmh(row('X', 'Y', 7, 1, 0))).toBe(25); // 50 km in 2 h
    expect(baseline.speedKmh(row('X', 'Y', 3, 1, 0))).toBe(140 / 3);
  });

  it("distance ÷ speed is the join's rule: a stopped vehicle is assumed at 60 km/h", () => {
    expect(distanceOverSpeedBaseline.predict(row('A', 'B', 7, 30, 0))).toBe(30);
  });
});
