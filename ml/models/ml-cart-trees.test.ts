// ml-cart's trees in the EtaModel's form: ml-cart sends `x < v` left, the contract `x ≤ t`, so
// the threshold is the double just below v; a converted tree predicts exactly what ml-cart does.
import { DecisionTreeRegression } from 'ml-cart';
import { cartToEtaTree, nextDown, randomForest } from './ml-cart-trees.ts';
import { trainingRows } from '../features.ts';
import { syntheticDeliveries } from '../synthetic-deliveries.ts';
import { isServableEtaModel } from '../../schemas/eta-model-evaluation.ts';
import type { EtaTree } from '../../schemas/types.ts';

function walk(tree: EtaTree, x: readonly number[]): number {
  let node = 0;
  while ((tree.feature[node] ?? -1) >= 0)
    node =
      (x[tree.feature[node] ?? 0] ?? 0) <= (tree.threshold[node] ?? 0)
        ? (tree.left[node] ?? 0)
        : (tree.right[node] ?? 0);
  return tree.value[node] ?? Number.NaN;
}

describe('ml-cart trees as EtaTrees', () => {
  it('nextDown is the largest double below', () => {
    expect(nextDown(1)).toBeLessThan(1);
    expect(nextDown(1)).toBe(1 - Number.EPSILON / 2);
    expect(nextDown(0)).toBe(-Number.MIN_VALUE);
    expect(nextDown(-1)).toBeLessThan(-1);
  });

  it('predicts what ml-cart predicts, also for values equal to a split value', () => {
    const x = [
      [1, 10],
      [2, 10],
      [3, 20],
      [4, 20],
      [5, 30],
      [6, 30],
      [2.5, 15],
      [4.5, 25],
    ];
    const y = [5, 6, 20, 21, 40, 41, 9, 33];
    const cart = new DecisionTreeRegression({ minNumSamples: 1 });
    cart.train(x, y);
    const tree = cartToEtaTree(cart.root, 1);
    const probes = [...x, [2.25, 10], [3.5, 20], [4.75, 12], [0, 0], [9, 99]];
    expect(probes.map((p) => walk(tree, p))).toEqual(cart.predict(probes));
  });

  it('a forest becomes trees scaled by 1/n over the original feature indexes', () => {
    const rows = trainingRows(syntheticDeliveries({ deliveries: 25 }));
    const { body } = randomForest({ trees: 4, maxRows: 200 }).train(rows);
    expect(body.trees).toHaveLength(4);
    expect(
      isServableEtaModel({
        ...body,
        modelName: 'eta',
        version: 1,
        metrics: {},
        mlflowRunId: null,
        trainedAt: 0,
        trainingExamples: 0,
      }),
    ).toBe(true);
  });
});
