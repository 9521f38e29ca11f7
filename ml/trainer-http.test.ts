// The trainer's control endpoint: POST /train is idempotent per request id (202, then 200 with
// the same job), ids are validated, GET /train/:id follows a job.
import { Registry } from 'prom-client';
import { createLogger } from '../core/logger.ts';
import type { Readiness } from '../core/metrics-server.ts';
import { EtaTrainer } from './eta-trainer.ts';
import { LiveAccuracy } from './live-accuracy.ts';
import { TRAINING_DEFAULTS } from './train-eta-model.ts';
import { inProcessTraining } from './training-executor.ts';
import { buildTrainerHttp } from './trainer-http.ts';
import { trainerMetrics } from './trainer-metrics.ts';
import { TrainingWindow } from './training-window.ts';

async function app(readiness?: () => Promise<Readiness>) {
  const registry = new Registry();
  const trainer = new EtaTrainer(
    { training: TRAINING_DEFAULTS, minDeliveries: 40, failedWindowRetryMs: 1, jobsKept: 10 },
    {
      window: new TrainingWindow({
        kind: 'sliding',
        spanMs: 1e12,
        maxDeliveries: 10,
        slideMs: 1e12,
        slideDeliveries: 10,
      }),
      champion: { current: () => undefined, publish: () => Promise.resolve() },
      experiment: {
        findRequest: () => Promise.resolve(undefined),
        logTraining: () => Promise.reject(new Error('not here')),
        promote: () => Promise.resolve(),
      },
      executor: inProcessTraining,
      metrics: trainerMetrics(registry),
      live: new LiveAccuracy(10),
      log: createLogger('silent'),
    },
  );
  return { http: await buildTrainerHttp(trainer, registry, readiness), trainer };
}

describe('trainer HTTP', () => {
  it('GET /ready: 200 or 503 as the trainer reports, with what it waits for', async () => {
    let state: Readiness = { ready: false, detail: { mlflow: 'unreachable: refused' } };
    const { http } = await app(() => Promise.resolve(state));
    const down = await http.inject({ url: '/ready' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'not ready', mlflow: 'unreachable: refused' });
    state = { ready: true, detail: { mlflow: 'answers' } };
    const up = await http.inject({ url: '/ready' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ status: 'ready', mlflow: 'answers' });
    // Without a readiness to report there is no /ready.
    expect((await (await app()).http.inject({ url: '/ready' })).statusCode).toBe(404);
  });

  it('POST /train: 202 with a new job, 200 with the same job for the same id', async () => {
    const { http, trainer } = await app();
    const first = await http.inject({
      method: 'POST',
      url: '/train',
      payload: { requestId: 'r-1' },
    });
    const second = await http.inject({
      method: 'POST',
      url: '/train',
      payload: { requestId: 'r-1' },
    });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      requestId: 'r-1',
      requestedAt: first.json<{ requestedAt: number }>().requestedAt,
    });
    await trainer.idle();
    const followed = await http.inject({ url: '/train/r-1' });
    // An empty window: skipped, not failed.
    expect(followed.json()).toMatchObject({ requestId: 'r-1', status: 'skipped' });
    expect((await http.inject({ url: '/train/r-2' })).statusCode).toBe(404);
    await http.close();
  });

  it('refuses request ids that are not ids, and serves /metrics', async () => {
    const { http } = await app();
    for (const requestId of ['', 'a b', 'x'.repeat(200), '../etc'])
      expect(
        (await http.inject({ method: 'POST', url: '/train', payload: { requestId } })).statusCode,
      ).toBe(400);
    const metrics = await http.inject({ url: '/metrics' });
    expect(metrics.body).toContain('continuum_ml_trainings_total');
    await http.close();
  });
});
