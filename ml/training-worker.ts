// The worker thread of workerThreadTraining: one training, its outcome posted back.
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainingRequest } from './training-executor.ts';
import { trainEtaModel } from './train-eta-model.ts';

const request = workerData as TrainingRequest;
parentPort?.postMessage(trainEtaModel(request.examples, request.champion, request.options));
