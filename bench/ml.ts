// The ETA model against its baselines on the simulator's ground truth, on a time-based
// holdout, at 10k and 100k training checkpoints (× --scale): MAE beside the better baseline
// (the issue asks ≤ 0.7×), the 90 % interval's measured coverage beside its target, and the
// time to train the boosted trees beside a linear regression on the same rows. Deliveries come
// from the simulator in memory, turned into examples by the join's own checkpoint rule
// (ml-simulated-deliveries.ts); no Kafka is involved.
import type { MlAlgorithm } from '../core/config.ts';
import { TRAINING_DEFAULTS, trainEtaModel, type TrainingOutcome } from '../ml/train-eta-model.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { simulatedDeliveries } from './ml-simulated-deliveries.ts';

/** What the issue asks of the champion. */
export const ML_TARGETS = { maeRatio: 0.7, coverageLow: 0.85, coverageHigh: 0.95 } as const;

const SIZES = [10_000, 100_000];

/** ml-cart and ml-random-forest are quadratic: tried at the smaller size only. */
const ALGORITHMS: Record<number, MlAlgorithm[]> = {
  10_000: ['linear', 'gradient-boosted-trees', 'regression-tree', 'random-forest'],
  100_000: ['linear', 'gradient-boosted-trees'],
};

function seconds(outcome: TrainingOutcome, algorithm: MlAlgorithm): number {
  return outcome.candidates.find((c) => c.algorithm === algorithm)?.trainSeconds ?? Number.NaN;
}

/** The figures of one size (exported for the unit test). */
export function mlFigures(
  outcome: TrainingOutcome,
  label: string,
  generatedIn: number,
): BenchFigure[] {
  const e = outcome.evaluation;
  const better =
    e.routeHourSpeed.mae <= e.distanceOverSpeed.mae
      ? { name: 'distance ÷ route-hour mean speed', value: e.routeHourSpeed.mae }
      : { name: 'distance ÷ current speed (join baseline-v1)', value: e.distanceOverSpeed.mae };
  const ratio = e.model.mae / better.value;
  const coverage = e.model.intervalCoverage;
  const split = `${outcome.split.train.checkpoints} training / ${outcome.split.calibration.checkpoints} calibration / ${e.model.n} evaluation checkpoints (${outcome.split.evaluation.deliveries} deliveries, the latest)`;
  const figures: BenchFigure[] = [
    {
      name: `ETA MAE, ${label} (${outcome.algorithm})`,
      value: e.model.mae,
      unit: 'min',
      baseline: better,
      notes: `${ratio.toFixed(2)}× the better baseline (goal ≤ ${ML_TARGETS.maeRatio}: ${ratio <= ML_TARGETS.maeRatio ? 'met' : 'NOT met'}); RMSE ${e.model.rmse.toFixed(2)}, R² ${e.model.r2.toFixed(3)}; ${split}`,
    },
    {
      name: `ETA MAE, ${label}, vs the join's baseline`,
      value: e.model.mae,
      unit: 'min',
      baseline: {
        name: 'distance ÷ current speed (join baseline-v1)',
        value: e.distanceOverSpeed.mae,
      },
    },
    {
      name: `90 % interval coverage, ${label}`,
      value: 100 * coverage,
      unit: '%',
      baseline: {
        name: 'the coverage asked for',
        value: 100 * (outcome.model.interval?.coverage ?? 0.9),
      },
      notes: `split conformal, calibrated on the calibration deliveries, measured on the evaluation ones (goal ${100 * ML_TARGETS.coverageLow}–${100 * ML_TARGETS.coverageHigh} %: ${coverage >= ML_TARGETS.coverageLow && coverage <= ML_TARGETS.coverageHigh ? 'met' : 'NOT met'}); mean width ${e.model.intervalMeanWidth.toFixed(1)} min`,
    },
    {
      name: `training time, ${label}, boosted trees`,
      value: seconds(outcome, 'gradient-boosted-trees'),
      unit: 's',
      baseline: { name: 'linear regression, same rows', value: seconds(outcome, 'linear') },
      notes: `the whole training (every candidate, calibration, evaluation): ${outcome.trainSeconds.toFixed(1)} s; simulating the deliveries took ${generatedIn.toFixed(1)} s`,
    },
  ];
  const gbt = outcome.candidates.find((c) => c.algorithm === 'gradient-boosted-trees');
  for (const c of outcome.candidates)
    if (gbt && (c.algorithm === 'regression-tree' || c.algorithm === 'random-forest'))
      figures.push({
        name: `${c.algorithm} MAE on calibration, ${label}`,
        value: c.selection.mae,
        unit: 'min',
        baseline: { name: 'boosted trees, same rows', value: gbt.selection.mae },
        notes: `learned from a sample of ${c.trainedOn} checkpoints (ml-cart is quadratic) in ${c.trainSeconds.toFixed(1)} s`,
      });
  return figures;
}

export const mlBenchmark: Benchmark = {
  name: 'ml',
  async run(ctx: BenchContext): Promise<BenchFigure[]> {
    const figures: BenchFigure[] = [];
    for (const size of SIZES) {
      const wanted = Math.max(2_000, Math.round(size * ctx.scale));
      const label = `${Math.round(wanted / 1000)}k checkpoints`;
      const started = performance.now();
      // The training part is 70 % of the window: simulate enough for `wanted` to be trained on.
      const examples = await simulatedDeliveries({ checkpoints: Math.round(wanted / 0.7) });
      const generatedIn = (performance.now() - started) / 1000;
      ctx.log.info({ size: label, deliveries: examples.length }, 'ml: deliveries simulated');
      const outcome = trainEtaModel(examples, undefined, {
        ...TRAINING_DEFAULTS,
        algorithms: ALGORITHMS[size] ?? TRAINING_DEFAULTS.algorithms,
      });
      ctx.log.info(
        { size: label, algorithm: outcome.algorithm, mae: outcome.evaluation.model.mae },
        'ml: trained',
      );
      figures.push(...mlFigures(outcome, label, generatedIn));
    }
    return figures;
  },
};
