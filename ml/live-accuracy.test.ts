// The live side of the drift gauge: only deliveries newer than the champion's data count, over
// the latest checkpoints.
import type { EtaModel } from '../schemas/types.ts';
import { DATA_TO_METRIC, LiveAccuracy } from './live-accuracy.ts';
import { syntheticDeliveries } from './synthetic-deliveries.ts';

const [old, fresh] = syntheticDeliveries({ deliveries: 2 });
const constant = (minutes: number, dataTo: number): EtaModel => ({
  modelName: 'eta',
  version: 1,
  kind: 'LINEAR_REGRESSION',
  featureNames: [],
  coefficients: [],
  intercept: minutes,
  metrics: { mae: 1, [DATA_TO_METRIC]: dataTo },
  mlflowRunId: null,
  trainedAt: 0,
  trainingExamples: 0,
  trees: [],
  interval: null,
});

describe('LiveAccuracy', () => {
  it('measures only deliveries after the data the champion learned from', () => {
    if (!old || !fresh) throw new Error('fixture');
    const live = new LiveAccuracy(1_000);
    const champion = constant(0, old.actualArrival);
    expect(live.observe(old, champion)).toBe(false);
    expect(live.observe(fresh, champion)).toBe(true);
    const labels = fresh.checkpoints.map((c) => c.minutesToArrival);
    expect(live.checkpoints).toBe(labels.length);
    expect(live.mae).toBeCloseTo(labels.reduce((s, l) => s + l, 0) / labels.length, 9);
  });

  it('keeps the latest checkpoints only, and starts over for a new champion', () => {
    if (!fresh) throw new Error('fixture');
    const live = new LiveAccuracy(3);
    live.observe(fresh, constant(0, 0));
    expect(live.checkpoints).toBe(3);
    const last3 = fresh.checkpoints.slice(-3).map((c) => c.minutesToArrival);
    expect(live.mae).toBeCloseTo((last3[0]! + last3[1]! + last3[2]!) / 3, 9);
    live.reset();
    expect(live.checkpoints).toBe(0);
    expect(live.mae).toBeNaN();
  });
});
