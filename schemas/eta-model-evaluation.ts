// How an EtaModel record predicts: the join serves with this and the trainer measures with it,
// so the figures the trainer reports are those of the predictions the join makes. Beside the
// contract because streams/ may not import ml/.
import { etaFeatureVector, isEtaFeatureName, type EtaFeatures } from './eta-features.ts';
import type { EtaInterval, EtaModel, EtaTree } from './types.ts';

/**
 * An EtaModel as read from eta.models: a record written before `trees` and `interval` existed
 * is decoded with its writer's schema and has neither.
 */
export type PublishedEtaModel = Omit<EtaModel, 'trees' | 'interval'> & {
  trees?: EtaTree[];
  interval?: EtaInterval | null;
};

/** Why the join cannot evaluate `model` (undefined: it can). */
export function unservableReason(model: PublishedEtaModel): string | undefined {
  const unknown = model.featureNames.filter((f) => !isEtaFeatureName(f));
  if (unknown.length > 0) return `features this code does not compute: ${unknown.join(', ')}`;
  if (!Number.isFinite(model.intercept)) return 'the intercept is not a number';
  if (model.kind === 'LINEAR_REGRESSION') {
    if (model.coefficients.length !== model.featureNames.length)
      return `${model.coefficients.length} coefficients for ${model.featureNames.length} features`;
    if (!model.coefficients.every(Number.isFinite)) return 'a coefficient is not a number';
    return undefined;
  }
  if (model.kind === 'TREE_ENSEMBLE') {
    const trees = model.trees ?? [];
    if (trees.length === 0) return 'a tree model without trees';
    for (const [i, tree] of trees.entries()) {
      const problem = treeProblem(tree, model.featureNames.length);
      if (problem) return `tree ${i}: ${problem}`;
    }
    return undefined;
  }
  return `kind ${model.kind} is not a trained model`;
}

export function isServableEtaModel(model: PublishedEtaModel): boolean {
  return unservableReason(model) === undefined;
}

/**
 * A tree is evaluated by walking from the root; children must come after their parent (the
 * trainer writes nodes in pre-order), so a walk always ends, whatever a record holds.
 */
function treeProblem(tree: EtaTree, features: number): string | undefined {
  const n = tree.feature.length;
  if (n === 0) return 'no nodes';
  if ([tree.threshold, tree.left, tree.right, tree.value].some((a) => a.length !== n))
    return 'node arrays of different lengths';
  for (let i = 0; i < n; i++) {
    const f = tree.feature[i] as number;
    if (f === -1) {
      if (!Number.isFinite(tree.value[i])) return `leaf ${i} has no finite value`;
      continue;
    }
    if (!Number.isInteger(f) || f < 0 || f >= features) return `node ${i} splits on feature ${f}`;
    const l = tree.left[i] as number;
    const r = tree.right[i] as number;
    if (!(l > i && l < n && r > i && r < n)) return `node ${i} has children ${l}, ${r}`;
    if (Number.isNaN(tree.threshold[i])) return `node ${i} has no threshold`;
  }
  return undefined;
}

function evaluateTree(tree: EtaTree, x: readonly number[]): number {
  let node = 0;
  for (;;) {
    const f = tree.feature[node] as number;
    if (f < 0) return tree.value[node] as number;
    node =
      (x[f] as number) <= (tree.threshold[node] as number)
        ? (tree.left[node] as number)
        : (tree.right[node] as number);
  }
}

/**
 * Minutes to arrival `model` predicts from `features` (never below 0: nothing arrives in the
 * past), or undefined when the model cannot be evaluated (check `unservableReason` first).
 */
export function predictMinutes(
  model: PublishedEtaModel,
  features: EtaFeatures,
): number | undefined {
  const x = etaFeatureVector(features, model.featureNames);
  if (!x) return undefined;
  let minutes = model.intercept;
  if (model.kind === 'LINEAR_REGRESSION') {
    x.forEach((value, i) => {
      minutes += (model.coefficients[i] ?? 0) * value;
    });
  } else if (model.kind === 'TREE_ENSEMBLE') {
    for (const tree of model.trees ?? []) minutes += evaluateTree(tree, x);
  } else {
    return undefined;
  }
  return Math.max(0, minutes);
}

/** The model's interval around `minutes` (split-conformal), or undefined when it has none. */
export function intervalMinutes(
  interval: EtaInterval | null | undefined,
  minutes: number,
): { low: number; high: number } | undefined {
  if (!interval) return undefined;
  const { lowerScore, upperScore, scaleOffsetMinutes } = interval;
  if (![lowerScore, upperScore, scaleOffsetMinutes].every(Number.isFinite)) return undefined;
  const scale = minutes + scaleOffsetMinutes;
  return {
    low: Math.max(0, minutes + lowerScore * scale),
    high: Math.max(minutes, minutes + upperScore * scale),
  };
}
