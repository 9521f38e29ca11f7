// The MLflow client against a fake server on loopback: what may pass is retried with backoff
// and reported, what cannot is not, a hung server times out, and errors carry MLflow's code.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { artifactPath, MlflowClient, MlflowError } from './mlflow-client.ts';

type Handler = (
  req: http.IncomingMessage,
  body: string,
) => { status: number; body: unknown } | 'hang';

async function fakeMlflow(
  handler: Handler,
): Promise<{ url: string; close: () => Promise<void>; calls: string[] }> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push(`${req.method} ${req.url}`);
      const answer = handler(req, body);
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const FAST = { initialDelayMs: 5, maxDelayMs: 20, budgetMs: 2_000 };

describe('MlflowClient', () => {
  it('retries a 503 with backoff, reports each retry, then succeeds', async () => {
    let n = 0;
    const server = await fakeMlflow(() =>
      ++n < 3
        ? { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' } }
        : { status: 200, body: { run: { info: { run_id: 'r-1' }, data: {} } } },
    );
    const retries: number[] = [];
    try {
      const client = new MlflowClient({
        url: server.url,
        timeoutMs: 1_000,
        retry: FAST,
        onRetry: (e) => retries.push(e.attempt),
      });
      const run = await client.getRun('r-1');
      expect(run.info.run_id).toBe('r-1');
      expect(retries).toEqual([1, 2]);
      expect(server.calls).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('does not retry a refusal, and keeps MLflow error code and status', async () => {
    const server = await fakeMlflow(() => ({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad filter' },
    }));
    try {
      const client = new MlflowClient({ url: server.url, timeoutMs: 1_000, retry: FAST });
      const err = await client
        .searchRuns({ experimentIds: ['1'], filter: 'x' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MlflowError);
      expect(err).toMatchObject({
        status: 400,
        errorCode: 'INVALID_PARAMETER_VALUE',
        retriable: false,
      });
      expect(server.calls).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('gives up on a hung server after its timeout, within the retry budget', async () => {
    const server = await fakeMlflow(() => 'hang');
    try {
      const client = new MlflowClient({
        url: server.url,
        timeoutMs: 100,
        retry: { initialDelayMs: 5, maxDelayMs: 5, budgetMs: 250 },
      });
      const err = await client.getRun('r').catch((e: unknown) => e);
      expect(err).toMatchObject({ retriable: true, status: undefined });
      expect(server.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      await server.close();
    }
  });

  it('treats RESOURCE_DOES_NOT_EXIST as absent, and uploads artifacts under the run root', async () => {
    const server = await fakeMlflow((req) =>
      req.method === 'PUT'
        ? { status: 200, body: {} }
        : { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no' } },
    );
    try {
      const client = new MlflowClient({ url: server.url, timeoutMs: 1_000, retry: FAST });
      expect(await client.getRegisteredModel('eta')).toBeUndefined();
      expect(await client.getVersionByAlias('eta', 'champion')).toBeUndefined();
      await client.uploadArtifact(
        'mlflow-artifacts:/3/abc/artifacts',
        'plots/holdout.svg',
        '<svg/>',
        'image/svg+xml',
      );
      expect(server.calls.at(-1)).toBe(
        'PUT /api/2.0/mlflow-artifacts/artifacts/3/abc/artifacts/plots/holdout.svg',
      );
    } finally {
      await server.close();
    }
  });

  it('refuses artifact roots the tracking server does not serve', () => {
    expect(artifactPath('mlflow-artifacts:/1/r/artifacts')).toBe('1/r/artifacts');
    expect(() => artifactPath('file:///tmp/mlruns/1/r/artifacts')).toThrow(MlflowError);
  });
});
