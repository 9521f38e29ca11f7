import { PassThrough } from 'node:stream';
import { loadConfig } from '../../core/config.ts';
import { demoUrls, formatStatusLine, formatUrls, StatusLine } from './demo-status.ts';

function stream(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const pass = new PassThrough();
  let text = '';
  pass.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    stream: Object.assign(pass, { isTTY: tty, columns: 40 }) as unknown as NodeJS.WriteStream,
    text: () => text,
  };
}

describe("npm start's terminal", () => {
  it('names where the UI, the API docs, MLflow, Prometheus and the logs are', () => {
    const urls = demoUrls(loadConfig({ CONTINUUM_API_PORT: '8181' }));
    expect(urls).toEqual({
      ui: 'http://127.0.0.1:8181/',
      docs: 'http://127.0.0.1:8181/docs',
      mlflow: 'http://127.0.0.1:5000',
      prometheus: 'http://127.0.0.1:9090',
    });
    const text = formatUrls(urls, 'ck_key', '/state/demo');
    for (const part of [urls.ui, urls.docs, urls.mlflow, urls.prometheus, 'ck_key', '/state/demo'])
      expect(text).toContain(part);
  });

  it('sums up the run in one line: shipments by status, the map, throughput and lag', () => {
    const line = formatStatusLine(
      {
        shipmentsByStatus: { DELIVERED: 2, IN_TRANSIT: 4, CANCELLED: 0 },
        onMap: 5,
        statesInPostgres: 6,
      },
      { recordsPerSecond: 41.6, lagRecords: 3 },
      new Date(2026, 11, 5, 10, 42, 13),
    );
    expect(line).toBe(
      '10:42:13  shipments 6 (4 in transit, 2 delivered) · 5 on the map · 42 records/s · lag 3',
    );
    expect(line).not.toMatch(/[{}]/);
  });

  it('rewrites its line in place on a terminal (cut to its width), and prints lines elsewhere', () => {
    const tty = stream(true);
    const onTty = new StatusLine(tty.stream);
    onTty.show('first');
    onTty.show('x'.repeat(60));
    onTty.end();
    expect(tty.text()).toBe(`\r\u001b[2Kfirst\r\u001b[2K${'x'.repeat(38)}…\n`);
    const file = stream(false);
    const inFile = new StatusLine(file.stream);
    inFile.show('first');
    inFile.show('second');
    inFile.end();
    expect(file.text()).toBe('first\nsecond\n');
  });
});
