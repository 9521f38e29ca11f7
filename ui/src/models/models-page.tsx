// The ETA models: every version with its holdout MAE, which one is champion, and drift — from the
// trainer's GET /v1/ml/models when it is there; which model serves each shipment right now comes
// from the states themselves (their modelVersion).
import { useEffect, useMemo, useState } from 'react';
import { getJson, getJsonOrMissing } from '../api/client.ts';
import { useFleet } from '../fleet/use-fleet.ts';
import { formatNumber, formatTime } from '../format.ts';
import { MetricChart } from '../pipeline/metric-chart.tsx';
import { parseModels, type ModelVersionRow } from './model-list.ts';

/** The ETA trainer's route (issue 11). */
const MODELS_ROUTE = '/v1/ml/models';

type Models =
  | { state: 'loading' }
  | { state: 'absent' }
  | { state: 'failed'; message: string }
  | { state: 'ok'; rows: ModelVersionRow[] };

function MaeBars({ rows }: { rows: readonly ModelVersionRow[] }) {
  const withMae = rows
    .filter((r) => r.metrics.mae !== undefined)
    .slice(0, 12)
    .reverse();
  if (withMae.length === 0) return null;
  const max = Math.max(...withMae.map((r) => r.metrics.mae ?? 0), 1);
  return (
    <svg
      className="mae-bars"
      viewBox={`0 0 ${withMae.length * 40} 120`}
      role="img"
      aria-label="MAE per model version, oldest to newest; the table lists the values"
    >
      {withMae.map((r, i) => {
        const height = ((r.metrics.mae ?? 0) / max) * 95;
        return (
          <g key={`${r.model}-${r.version}`}>
            <rect
              x={i * 40 + 8}
              y={100 - height}
              width={24}
              height={height}
              className={r.champion ? 'bar champion' : 'bar'}
            />
            <text x={i * 40 + 20} y={115} textAnchor="middle">
              v{r.version}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function ModelsPage() {
  const fleet = useFleet();
  const [models, setModels] = useState<Models>({ state: 'loading' });
  useEffect(() => {
    const abort = new AbortController();
    // The API's own document says whether the trainer's route is there (asking the route itself
    // would leave a 404 in the browser's console until it is).
    getJson<{ paths?: Record<string, unknown> }>('/docs/json', abort.signal)
      .then((doc) =>
        doc.paths?.[MODELS_ROUTE] === undefined
          ? undefined
          : getJsonOrMissing<unknown>(MODELS_ROUTE, abort.signal),
      )
      .then((body) =>
        setModels(
          body === undefined ? { state: 'absent' } : { state: 'ok', rows: parseModels(body) },
        ),
      )
      .catch((err: unknown) => {
        if (!abort.signal.aborted)
          setModels({ state: 'failed', message: err instanceof Error ? err.message : String(err) });
      });
    return () => abort.abort();
  }, []);
  const serving = useMemo(() => {
    const counts = new Map<string, number>();
    for (const s of fleet.shipments)
      if (s.predictedArrival !== null)
        counts.set(s.modelVersion ?? 'unknown', (counts.get(s.modelVersion ?? 'unknown') ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]);
  }, [fleet.shipments]);
  const metricNames =
    models.state === 'ok'
      ? [...new Set(models.rows.flatMap((r) => Object.keys(r.metrics)))].sort()
      : [];

  return (
    <section className="models-page" aria-labelledby="models-title">
      <h1 id="models-title">ETA models</h1>
      <h2>Serving now</h2>
      {serving.length === 0 ? (
        <p className="notice">No shipment has a predicted arrival yet.</p>
      ) : (
        <ul className="serving">
          {serving.map(([version, count]) => (
            <li key={version}>
              <strong>{version}</strong> predicts {count} {count === 1 ? 'shipment' : 'shipments'}
            </li>
          ))}
        </ul>
      )}
      <h2>Versions</h2>
      {models.state === 'loading' && <p className="notice">Loading…</p>}
      {models.state === 'failed' && (
        <p className="notice" role="alert">
          The models could not be read: {models.message}
        </p>
      )}
      {(models.state === 'absent' || (models.state === 'ok' && models.rows.length === 0)) && (
        <div className="empty-state" data-testid="models-empty">
          <p>
            <strong>No trained model yet.</strong> The ETA trainer (<code>continuum ml</code>)
            retrains on completed deliveries, logs every run to MLflow and lists its versions here.
            Until a model is published the join predicts with the distance ÷ speed baseline, as
            “Serving now” shows.
          </p>
        </div>
      )}
      {models.state === 'ok' && models.rows.length > 0 && (
        <>
          <MaeBars rows={models.rows} />
          <div className="table-scroll">
            <table>
              <caption>{models.rows.length} model versions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Version</th>
                  <th scope="col">Champion</th>
                  {metricNames.map((m) => (
                    <th scope="col" key={m}>
                      {m}
                    </th>
                  ))}
                  <th scope="col">Trained</th>
                </tr>
              </thead>
              <tbody>
                {models.rows.map((r) => (
                  <tr key={`${r.model}-${r.version}`}>
                    <th scope="row">{r.model}</th>
                    <td>{r.version}</td>
                    <td>{r.champion ? 'champion' : ''}</td>
                    {metricNames.map((m) => (
                      <td key={m}>{formatNumber(r.metrics[m], 2)}</td>
                    ))}
                    <td>{formatTime(r.trainedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <h2>Drift</h2>
      <MetricChart query="model-drift" minutes={360} />
    </section>
  );
}
