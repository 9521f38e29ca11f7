// The pipeline's health from Prometheus through the API: consumer lag (records and time),
// throughput per stage, sink writes, freshness and dead letters — the lag view that works
// natively, where Grafana cannot run.
import { useState } from 'react';
import { MetricChart } from './metric-chart.tsx';

const CHARTS = [
  'consumer-lag',
  'consumer-lag-seconds',
  'throughput',
  'sink-writes',
  'freshness-p50',
  'freshness-p99',
  'dead-letters',
] as const;

const RANGES = [15, 60, 360] as const;

export function PipelinePage() {
  const [minutes, setMinutes] = useState<number>(15);
  return (
    <section className="pipeline-page" aria-labelledby="pipeline-title">
      <h1 id="pipeline-title">Pipeline</h1>
      <fieldset className="range-filter">
        <legend>Time range</legend>
        {RANGES.map((m) => (
          <label key={m} className={minutes === m ? 'chosen' : ''}>
            <input
              type="radio"
              name="range"
              checked={minutes === m}
              onChange={() => setMinutes(m)}
            />
            last {m < 60 ? `${m} min` : `${m / 60} h`}
          </label>
        ))}
      </fieldset>
      <div className="chart-grid">
        {CHARTS.map((query) => (
          <MetricChart key={query} query={query} minutes={minutes} />
        ))}
      </div>
    </section>
  );
}
