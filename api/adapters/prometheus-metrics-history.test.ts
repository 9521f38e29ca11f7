import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../api-error.ts';
import { prometheusMetricsHistory } from './prometheus-metrics-history.ts';

describe('prometheusMetricsHistory', () => {
  let server: Server;
  let url: string;
  let asked: URLSearchParams | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        asked = new URLSearchParams(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            status: 'success',
            data: {
              resultType: 'matrix',
              result: [
                {
                  metric: { application: 'a' },
                  values: [
                    [100, '1.5'],
                    [130, 'NaN'],
                  ],
                },
                {
                  metric: { application: 'b' },
                  values: [
                    [115, '+Inf'],
                    [130, '2'],
                  ],
                },
              ],
            },
          }),
        );
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('lays the matrix on the step grid, missing and non-finite values as null', async () => {
    const history = prometheusMetricsHistory({ url, timeoutMs: 2_000 });
    const answer = await history.queryRange('sum(x)', { start: 100, end: 130, stepSeconds: 15 });
    expect(Object.fromEntries(asked ?? [])).toEqual({
      query: 'sum(x)',
      start: '100',
      end: '130',
      step: '15',
    });
    expect(answer).toEqual({
      timestamps: [100, 115, 130],
      series: [
        { labels: { application: 'a' }, values: [1.5, null, null] },
        { labels: { application: 'b' }, values: [null, null, 2] },
      ],
    });
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE when Prometheus cannot be reached', async () => {
    const history = prometheusMetricsHistory({ url: 'http://127.0.0.1:1', timeoutMs: 500 });
    const failure = await history
      .queryRange('x', { start: 0, end: 10, stepSeconds: 5 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
