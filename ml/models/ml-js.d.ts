// The parts of ml-cart the trainer uses (the package ships no types). ml-random-forest's
// own declarations cannot be imported under NodeNext, so its shape is here too.
declare module 'ml-cart' {
  export interface CartNode {
    splitColumn?: number;
    splitValue?: number;
    left?: CartNode;
    right?: CartNode;
    /** A leaf's prediction (regression). */
    distribution?: number;
  }
  export class DecisionTreeRegression {
    constructor(options?: { maxDepth?: number; minNumSamples?: number; gainThreshold?: number });
    root: CartNode;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
  }
}
