// MLflow tracking over its REST API, as the ETA trainer uses it: an experiment, a run with
// metrics over several steps and a parameter, finished, then read back.
import { loadConfig } from '../../core/config.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
// Explicit per test and hook, whatever the runner's default.
const TIMEOUT_MS = 30_000;
const api = `${config.mlflow.url}/api/2.0/mlflow/`;

async function call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
  const url =
    method === 'GET' && body
      ? `${api}${path}?${new URLSearchParams(body as Record<string, string>).toString()}`
      : `${api}${path}`;
  const response = await fetch(url, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: method === 'POST' ? JSON.stringify(body ?? {}) : null,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

interface Run {
  info: { run_id: string; experiment_id: string; status: string; end_time?: number };
  data: { metrics?: Metric[]; params?: { key: string; value: string }[] };
}

describe('MLflow tracking REST API', () => {
  let experimentId: string | undefined;

  afterAll(async () => {
    if (experimentId) await call('POST', 'experiments/delete', { experiment_id: experimentId });
  }, TIMEOUT_MS);

  test(
    'a run with a metric history is logged, finished and read back',
    async () => {
      const experimentName = uniqueName('continuum-test');
      const created = await call<{ experiment_id: string }>('POST', 'experiments/create', {
        name: experimentName,
      });
      experimentId = created.experiment_id;
      expect(experimentId).toMatch(/^\d+$/);

      const startTime = Date.now();
      const { run } = await call<{ run: Run }>('POST', 'runs/create', {
        experiment_id: experimentId,
        start_time: startTime,
        run_name: 'eta-window-1',
        tags: [{ key: 'continuum.model', value: 'eta' }],
      });
      const runId = run.info.run_id;
      expect(run.info.experiment_id).toBe(experimentId);

      const maes = [412.5, 377.25, 351.125];
      const metrics: Metric[] = maes.map((value, step) => ({
        key: 'mae_seconds',
        value,
        timestamp: startTime + step * 1_000,
        step,
      }));
      await call('POST', 'runs/log-batch', {
        run_id: runId,
        metrics,
        params: [{ key: 'window_size', value: '500' }],
      });
      await call('POST', 'runs/update', {
        run_id: runId,
        status: 'FINISHED',
        end_time: startTime + 5_000,
      });

      const got = await call<{ run: Run }>('GET', 'runs/get', { run_id: runId });
      expect(got.run.info.status).toBe('FINISHED');
      expect(Number(got.run.info.end_time)).toBe(startTime + 5_000);
      // runs/get reports each metric's latest step.
      expect(got.run.data.metrics).toEqual([expect.objectContaining({ ...metrics[2] })]);
      expect(got.run.data.params).toEqual([{ key: 'window_size', value: '500' }]);

      const history = await call<{ metrics: Metric[] }>('GET', 'metrics/get-history', {
        run_id: runId,
        metric_key: 'mae_seconds',
      });
      const byStep = [...history.metrics].sort((a, b) => a.step - b.step);
      expect(
        byStep.map((m) => ({ ...m, timestamp: Number(m.timestamp), step: Number(m.step) })),
      ).toEqual(metrics);
    },
    TIMEOUT_MS,
  );
});
