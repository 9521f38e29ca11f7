// Where a training runs. In `continuum ml` it runs in a worker thread: fitting 100k checkpoints
// takes seconds of CPU, and on the main thread that would stall the Kafka consumer's
// heartbeats, the control endpoint and /metrics. Tests and the benchmark run it in-process.
import { Worker } from 'node:worker_threads';
import type { PublishedEtaModel } from '../schemas/eta-model-evaluation.ts';
import type { DeliveryExample } from '../schemas/types.ts';
import { trainEtaModel, type TrainingOptions, type TrainingOutcome } from './train-eta-model.ts';

export interface TrainingRequest {
  examples: readonly DeliveryExample[];
  champion: PublishedEtaModel | undefined;
  options: TrainingOptions;
}

export interface TrainingExecutor {
  train(request: TrainingRequest): Promise<TrainingOutcome>;
}

export const inProcessTraining: TrainingExecutor = {
  train: (request) =>
    Promise.resolve(trainEtaModel(request.examples, request.champion, request.options)),
};

/** One worker per training (trainings are minutes apart; a pool would only hold memory). */
export const workerThreadTraining: TrainingExecutor = {
  train(request) {
    return new Promise<TrainingOutcome>((resolve, reject) => {
      const worker = new Worker(new URL('./training-worker.ts', import.meta.url), {
        workerData: request,
      });
      let settled = false;
      worker.once('message', (outcome: TrainingOutcome) => {
        settled = true;
        resolve(outcome);
        void worker.terminate();
      });
      worker.once('error', (err: Error) => {
        settled = true;
        reject(err);
      });
      worker.once('exit', (code) => {
        if (!settled) reject(new Error(`the training worker exited with code ${code}`));
      });
    });
  },
};
