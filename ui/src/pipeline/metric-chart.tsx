// One named pipeline query as a uPlot line chart, polled from the API (which asks Prometheus),
// with its latest values as a table for screen readers and small screens.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { getJson } from '../api/client.ts';
import type { PipelineRange } from '../api/types.ts';
import { formatNumber } from '../format.ts';

const PALETTE = [
  '#0f8b8d',
  '#6b5bd6',
  '#d08a00',
  '#c2362f',
  '#2f7ed8',
  '#2e8b3a',
  '#8a5a44',
  '#5c5f66',
];
const POLL_MS = 15_000;

export interface MetricChartProps {
  query: string;
  minutes: number;
}

function unitSuffix(unit: PipelineRange['query']['unit']): string {
  return unit === 'seconds' ? ' s' : unit === 'records' || unit === 'ratio' ? '' : ` ${unit}`;
}

/** Axis ticks stay short: seconds keep their "s", rates name their unit in the caption. */
function tickSuffix(unit: PipelineRange['query']['unit']): string {
  return unit === 'seconds' ? ' s' : '';
}

function latest(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i] ?? null;
  return null;
}

export function MetricChart({ query, minutes }: MetricChartProps) {
  const [data, setData] = useState<PipelineRange | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const holder = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    const stepSeconds = Math.max(5, Math.ceil((minutes * 60) / 240 / 5) * 5);
    const load = (): void => {
      getJson<PipelineRange>(
        `/v1/pipeline/metrics/${query}?minutes=${minutes}&stepSeconds=${stepSeconds}`,
        abort.signal,
      )
        .then((answer) => {
          setData(answer);
          setProblem(null);
        })
        .catch((err: unknown) => {
          if (!abort.signal.aborted) setProblem(err instanceof Error ? err.message : String(err));
        });
    };
    load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, [query, minutes]);

  useEffect(() => {
    const element = holder.current;
    if (!element || !data || data.series.length === 0) return;
    const suffix = tickSuffix(data.query.unit);
    const plot = new uPlot(
      {
        width: Math.max(240, element.clientWidth),
        height: 200,
        // The table below names the series (with their colours) and their latest values.
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] } },
        axes: [
          {},
          {
            values: (_u, ticks) => ticks.map((t) => `${formatNumber(t, t < 10 ? 1 : 0)}${suffix}`),
            size: 70,
          },
        ],
        series: [
          {},
          ...data.series.map((s, i) => ({
            label: s.name,
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            spanGaps: false,
          })),
        ],
      },
      [data.timestamps, ...data.series.map((s) => s.values)],
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(240, element.clientWidth), height: 200 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data]);

  const title = data?.query.title ?? query;
  return (
    <figure
      className="metric-chart"
      aria-labelledby={`${query}-title`}
      data-testid={`chart-${query}`}
    >
      <figcaption id={`${query}-title`}>
        <strong>{title}</strong>
        {data && (
          <span className="muted">
            {' '}
            · {data.query.description} ({data.query.unit})
          </span>
        )}
      </figcaption>
      {problem && (
        <p className="notice" role="alert">
          No data: {problem}
        </p>
      )}
      {data && data.series.length === 0 && (
        <p className="notice">No series yet for the last {minutes} minutes.</p>
      )}
      <div ref={holder} className="chart" aria-hidden="true" />
      {data && data.series.length > 0 && (
        <table className="latest">
          <caption className="visually-hidden">{title}, latest values</caption>
          <thead>
            <tr>
              <th scope="col">{data.query.legend.join(' ') || 'series'}</th>
              <th scope="col">latest</th>
            </tr>
          </thead>
          <tbody>
            {data.series.map((s, i) => (
              <tr key={s.name}>
                <th scope="row">
                  <span
                    className="swatch"
                    style={{ background: PALETTE[i % PALETTE.length] }}
                    aria-hidden="true"
                  />{' '}
                  {s.name}
                </th>
                <td data-testid="latest-value">
                  {formatNumber(latest(s.values), 2)}
                  {unitSuffix(data.query.unit)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}
