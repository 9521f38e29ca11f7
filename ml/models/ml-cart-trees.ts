// ml-cart's regression tree and ml-random-forest (built on it), tried beside the boosted trees
// as the issue asks. Both search every split value of every feature against all rows at every
// node, which is quadratic in the examples, so they learn from a sample (`maxRows`); their
// trees are converted into the EtaModel's tree form and served like the boosted ones.
import { DecisionTreeRegression, type CartNode } from 'ml-cart';
import { RandomForestRegression } from 'ml-random-forest';
import type { EtaTree } from '../../schemas/types.ts';
import { ETA_FEATURE_NAMES, featureMatrix, type TrainingRow } from '../features.ts';
import { sampleRows, type EtaAlgorithm, type TrainedCandidate } from './eta-algorithm.ts';

/** The largest double below `x`: ml-cart sends `x < v` left, the EtaModel `x ≤ threshold`. */
export function nextDown(x: number): number {
  if (Number.isNaN(x) || x === Number.NEGATIVE_INFINITY) return x;
  if (x === 0) return -Number.MIN_VALUE;
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] = (bits[0] as bigint) + (x > 0 ? -1n : 1n);
  return new Float64Array(bits.buffer)[0] as number;
}

/**
 * An ml-cart tree in pre-order, scaled by `weight` (1 for one tree, 1/n for a forest's mean).
 * `columns` maps the tree's columns to feature indexes (a forest's tree sees a subset).
 */
export function cartToEtaTree(
  root: CartNode,
  weight: number,
  columns?: readonly number[],
): EtaTree {
  const tree: EtaTree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const visit = (node: CartNode): number => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(0);
    if (
      node.left &&
      node.right &&
      node.splitColumn !== undefined &&
      node.splitValue !== undefined
    ) {
      tree.feature[id] = columns ? (columns[node.splitColumn] as number) : node.splitColumn;
      tree.threshold[id] = nextDown(node.splitValue);
      tree.left[id] = visit(node.left);
      tree.right[id] = visit(node.right);
    } else {
      tree.value[id] = weight * (node.distribution ?? 0);
    }
    return id;
  };
  visit(root);
  return tree;
}

export interface CartOptions {
  /** Rows the tree (or each tree of the forest) learns from at most. */
  maxRows: number;
  maxDepth: number;
  minNumSamples: number;
  seed: number;
}

export const REGRESSION_TREE_DEFAULTS: CartOptions = {
  maxRows: 2_000,
  maxDepth: 10,
  minNumSamples: 10,
  seed: 42,
};

export function regressionTree(options: Partial<CartOptions> = {}): EtaAlgorithm {
  const o = { ...REGRESSION_TREE_DEFAULTS, ...options };
  return {
    name: 'regression-tree',
    train(rows: readonly TrainingRow[]): TrainedCandidate {
      const names = [...ETA_FEATURE_NAMES];
      const sample = sampleRows(rows, o.maxRows, o.seed);
      const cart = new DecisionTreeRegression({
        maxDepth: o.maxDepth,
        minNumSamples: o.minNumSamples,
      });
      cart.train(
        featureMatrix(sample, names),
        sample.map((r) => r.label),
      );
      return {
        body: {
          kind: 'TREE_ENSEMBLE',
          featureNames: names,
          coefficients: [],
          intercept: 0,
          trees: [cartToEtaTree(cart.root, 1)],
        },
        params: {
          library: 'ml-cart',
          max_rows: o.maxRows,
          max_depth: o.maxDepth,
          min_samples: o.minNumSamples,
        },
        trainedOn: sample.length,
      };
    },
  };
}

export interface ForestOptions extends CartOptions {
  trees: number;
  /** Share of the features each tree sees. */
  maxFeatures: number;
}

export const RANDOM_FOREST_DEFAULTS: ForestOptions = {
  ...REGRESSION_TREE_DEFAULTS,
  maxRows: 1_000,
  trees: 30,
  // A float below 1: ml-random-forest reads 1.0 as the integer 1, one feature per tree.
  maxFeatures: 0.8,
};

interface Forest {
  estimators: { root: CartNode }[];
  indexes: number[][];
  train(x: number[][], y: number[]): void;
}

export function randomForest(options: Partial<ForestOptions> = {}): EtaAlgorithm {
  const o = { ...RANDOM_FOREST_DEFAULTS, ...options };
  return {
    name: 'random-forest',
    train(rows: readonly TrainingRow[]): TrainedCandidate {
      const names = [...ETA_FEATURE_NAMES];
      const sample = sampleRows(rows, o.maxRows, o.seed);
      const forest = new RandomForestRegression({
        nEstimators: o.trees,
        maxFeatures: o.maxFeatures,
        seed: o.seed,
        noOOB: true,
        treeOptions: { maxDepth: o.maxDepth, minNumSamples: o.minNumSamples },
      }) as unknown as Forest;
      forest.train(
        featureMatrix(sample, names),
        sample.map((r) => r.label),
      );
      const weight = 1 / forest.estimators.length;
      return {
        body: {
          kind: 'TREE_ENSEMBLE',
          featureNames: names,
          coefficients: [],
          intercept: 0,
          // The forest predicts the mean of its trees: each scaled by 1/n, then added up.
          trees: forest.estimators.map((e, i) => cartToEtaTree(e.root, weight, forest.indexes[i])),
        },
        params: {
          library: 'ml-random-forest',
          max_rows: o.maxRows,
          trees: o.trees,
          max_features: o.maxFeatures,
          max_depth: o.maxDepth,
          min_samples: o.minNumSamples,
        },
        trainedOn: sample.length,
      };
    },
  };
}
