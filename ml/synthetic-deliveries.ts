// Small, deterministic delivery examples for the trainer's tests: trips whose speed depends on
// the road (the last 6 km are town), the hour (a rush hour) and a congestion of their own, with
// checkpoints every 5 minutes computed with the join's `tripFeatures`. A world simple enough to
// reason about, non-linear enough that trees beat a straight line and the baselines.
import type { DeliveryCheckpoint, DeliveryExample } from '../schemas/types.ts';
import { tripFeatures } from './features.ts';
import { seededRandom } from './models/eta-algorithm.ts';

export interface SyntheticOptions {
  deliveries: number;
  seed: number;
  /** Epoch ms of the first pickup; deliveries follow one another every `spacingMs`. */
  start: number;
  spacingMs: number;
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  deliveries: 300,
  seed: 7,
  start: Date.UTC(2026, 0, 5, 5, 0),
  spacingMs: 7 * 60_000,
};

const ROUTES = [
  { originId: 'depot-cgn', destinationId: 'site-0001-bon', km: 38 },
  { originId: 'depot-cgn', destinationId: 'site-0002-dtm', km: 118 },
  { originId: 'depot-fra', destinationId: 'site-0003-ks', km: 236 },
  { originId: 'depot-dtm', destinationId: 'site-0004-mst', km: 78 },
  { originId: 'depot-fra', destinationId: 'site-0005-mz', km: 46 },
];

const STEP_MS = 10_000;
const CHECKPOINT_MS = 5 * 60_000;

function speedAt(remainingKm: number, at: number, congestion: number): number {
  const hour = new Date(at).getUTCHours();
  const rush = hour >= 6 && hour < 8 ? 0.6 : 1;
  const road = remainingKm <= 6 ? 35 : 95;
  return road * rush * congestion;
}

export function syntheticDeliveries(options: Partial<SyntheticOptions> = {}): DeliveryExample[] {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  const random = seededRandom(o.seed);
  const examples: DeliveryExample[] = [];
  for (let d = 0; d < o.deliveries; d++) {
    const route = ROUTES[Math.floor(random() * ROUTES.length)];
    if (!route) throw new RangeError('no route drawn');
    const pickedUpAt = o.start + d * o.spacingMs;
    const congestion = 0.7 + 0.4 * random();
    // Trace the trip in 10 s steps; note a checkpoint every 5 minutes.
    const trace: { at: number; travelled: number; speed: number }[] = [];
    let at = pickedUpAt;
    let travelled = 0;
    let nextCheckpoint = pickedUpAt;
    while (travelled < route.km) {
      const speed = speedAt(route.km - travelled, at, congestion);
      if (at >= nextCheckpoint) {
        trace.push({ at, travelled, speed });
        nextCheckpoint += CHECKPOINT_MS;
      }
      travelled = Math.min(route.km, travelled + (speed * STEP_MS) / 3_600_000);
      at += STEP_MS;
    }
    const arrival = at;
    const checkpoints: DeliveryCheckpoint[] = trace.map((c) => ({
      checkpointTime: c.at,
      ...tripFeatures({
        at: c.at,
        pickedUpAt,
        distanceRemainingKm: route.km - c.travelled,
        distanceTravelledKm: c.travelled,
        speedKmh: Math.round(c.speed * 10) / 10,
      }),
      minutesToArrival: (arrival - c.at) / 60_000,
    }));
    examples.push({
      shipmentId: `SHP-${String(d).padStart(5, '0')}`,
      vehicleId: `veh-${String(d % 12).padStart(3, '0')}`,
      originId: route.originId,
      destinationId: route.destinationId,
      promisedAt: arrival + 3_600_000,
      actualArrival: arrival,
      checkpoints,
    });
  }
  return examples;
}
