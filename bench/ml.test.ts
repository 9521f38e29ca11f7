// The ml benchmark's table rows from one training: the better baseline beside the MAE, the
// goal verdicts in the notes, and the examples built by the join's checkpoint rule.
import { syntheticDeliveries } from '../ml/synthetic-deliveries.ts';
import { TRAINING_DEFAULTS, trainEtaModel } from '../ml/train-eta-model.ts';
import { mlFigures } from './ml.ts';
import { simulatedDeliveries } from './ml-simulated-deliveries.ts';

describe('ml benchmark', () => {
  it('puts the better baseline beside the MAE and says whether the goals are met', () => {
    const outcome = trainEtaModel(
      syntheticDeliveries({ deliveries: 120 }),
      undefined,
      TRAINING_DEFAULTS,
    );
    const figures = mlFigures(outcome, '2k checkpoints', 0.5);
    const [mae, joinBaseline, coverage, time] = figures;
    const e = outcome.evaluation;
    expect(mae?.value).toBe(e.model.mae);
    expect(mae?.baseline?.value).toBe(Math.min(e.distanceOverSpeed.mae, e.routeHourSpeed.mae));
    expect(mae?.notes).toMatch(/goal ≤ 0\.7: (met|NOT met)/);
    expect(joinBaseline?.baseline?.value).toBe(e.distanceOverSpeed.mae);
    expect(coverage).toMatchObject({ unit: '%', baseline: { value: 90 } });
    expect(time?.baseline?.name).toBe('linear regression, same rows');
  });

  it("simulated deliveries carry the join's checkpoints, labelled with the true arrival", async () => {
    const examples = await simulatedDeliveries({ checkpoints: 300, vehicles: 20 });
    const checkpoints = examples.flatMap((e) => e.checkpoints);
    expect(checkpoints.length).toBeGreaterThanOrEqual(300);
    for (const e of examples) {
      const times = e.checkpoints.map((c) => c.checkpointTime);
      // Every 5 minutes of event time at least, up to the arrival.
      times.slice(1).forEach((t, i) => expect(t - (times[i] ?? 0)).toBeGreaterThanOrEqual(300_000));
      for (const c of e.checkpoints)
        expect(c.minutesToArrival).toBeCloseTo((e.actualArrival - c.checkpointTime) / 60_000, 9);
      expect(Math.max(...times)).toBeLessThanOrEqual(e.actualArrival);
    }
  });
});
