// What `npm start` shows in the terminal: where everything is, then one compact status line,
// rewritten in place on a terminal (a line every interval otherwise, e.g. into a file or CI log).
import type { Config } from '../../core/config.ts';
import { PIPELINE_QUERIES } from '../../core/pipeline-queries.ts';
import type { DemoStatus } from './run-demo.ts';

export interface DemoUrls {
  ui: string;
  docs: string;
  mlflow: string;
  prometheus: string;
}

export function demoUrls(config: Config): DemoUrls {
  const host = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host;
  const api = `http://${host}:${config.api.port}`;
  return {
    ui: `${api}/`,
    docs: `${api}/docs`,
    mlflow: config.mlflow.url,
    prometheus: config.prometheus.url,
  };
}

export function formatUrls(urls: DemoUrls, apiKey: string, logDir: string): string {
  return [
    '',
    `  UI           ${urls.ui}`,
    `  API docs     ${urls.docs}   (reads open on loopback; this run's key, scope admin: ${apiKey})`,
    `  MLflow       ${urls.mlflow}`,
    `  Prometheus   ${urls.prometheus}`,
    `  Logs         ${logDir}/<process>.log (demo.log is this command's)`,
    '',
  ].join('\n');
}

/** The platform's throughput and lag from Prometheus (undefined when it cannot answer). */
export interface PipelineRates {
  recordsPerSecond: number;
  lagRecords: number;
}

async function instant(
  prometheusUrl: string,
  expr: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, {
    signal: AbortSignal.timeout(2_000),
  });
  const body = (await response.json()) as {
    data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data?.result ?? [];
}

/** Throughput and lag of the groups of the platform's stream applications and sinks. */
export async function readPipelineRates(
  prometheusUrl: string,
  groupPrefix: string,
): Promise<PipelineRates | undefined> {
  try {
    const [throughput, lag] = await Promise.all([
      instant(prometheusUrl, PIPELINE_QUERIES.throughput.expr),
      instant(prometheusUrl, PIPELINE_QUERIES.consumerLag.expr),
    ]);
    const ours = (rows: typeof lag, label: string): number =>
      rows
        .filter((r) => (r.metric[label] ?? '').startsWith(`${groupPrefix}-`))
        .reduce((sum, r) => sum + (Number(r.value[1]) || 0), 0);
    return {
      recordsPerSecond: ours(throughput, 'application'),
      lagRecords: ours(lag, 'consumergroup'),
    };
  } catch {
    return undefined;
  }
}

const SHORT: Record<string, string> = {
  CREATED: 'created',
  ASSIGNED: 'assigned',
  PICKED_UP: 'picked up',
  IN_TRANSIT: 'in transit',
  OUT_FOR_DELIVERY: 'out for delivery',
  DELIVERED: 'delivered',
  EXCEPTION: 'exception',
  CANCELLED: 'cancelled',
};

export function formatStatusLine(
  status: DemoStatus,
  rates: PipelineRates | undefined,
  now = new Date(),
): string {
  const time = now.toTimeString().slice(0, 8);
  const order = Object.keys(SHORT);
  const byStatus = Object.entries(status.shipmentsByStatus)
    .filter(([, n]) => n > 0)
    // In lifecycle order, not alphabetical.
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([s, n]) => `${n} ${SHORT[s] ?? s.toLowerCase()}`)
    .join(', ');
  const pipeline = rates
    ? ` · ${Math.round(rates.recordsPerSecond)} records/s · lag ${rates.lagRecords}`
    : ' · metrics: Prometheus not answering';
  return `${time}  shipments ${status.statesInPostgres}${byStatus ? ` (${byStatus})` : ''} · ${status.onMap} on the map${pipeline}`;
}

/** One line rewritten in place on a terminal; plain lines otherwise. */
export class StatusLine {
  private readonly stream: NodeJS.WriteStream;
  private shown = false;

  constructor(stream: NodeJS.WriteStream = process.stdout) {
    this.stream = stream;
  }

  get inPlace(): boolean {
    return this.stream.isTTY === true;
  }

  show(text: string): void {
    if (!this.inPlace) {
      this.stream.write(`${text}\n`);
      return;
    }
    const width = this.stream.columns || 120;
    this.stream.write(
      `\r\u001b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`,
    );
    this.shown = true;
  }

  /** Ends the line being rewritten, so what follows starts on its own. */
  end(): void {
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}
