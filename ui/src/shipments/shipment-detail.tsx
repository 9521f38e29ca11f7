// One shipment: its Unified Shipment State as it changes (the fleet's event stream), how fresh
// the API says it is, its ETA with the interval and the model that made it, and a timeline of
// its recent changes (its own event stream, replayed from the API's recent history).
import { useEffect, useMemo, useState } from 'react';
import { ApiProblem, getJson } from '../api/client.ts';
import { followStates, positionBefore } from '../api/state-stream.ts';
import type { ShipmentLookup, UnifiedShipmentState } from '../api/types.ts';
import { useFleet } from '../fleet/use-fleet.ts';
import { formatAgo, formatDuration, formatNumber, formatStatus, formatTime } from '../format.ts';
import { StatusBadge } from './status-badge.tsx';
import { timelineOf } from './timeline.ts';

/** Changes per partition the timeline replays: what the API keeps in memory (no Kafka read). */
const TIMELINE_HISTORY = 2_000;
const FRESHNESS_EVERY_MS = 10_000;

function Field({
  label,
  children,
  testId,
}: {
  label: string;
  children: React.ReactNode;
  testId?: string;
}) {
  return (
    <div className="field">
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

function useLookup(shipmentId: string): { lookup: ShipmentLookup | null; problem: string | null } {
  const [lookup, setLookup] = useState<ShipmentLookup | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    const load = (): void => {
      getJson<ShipmentLookup>(`/v1/shipments/${encodeURIComponent(shipmentId)}`, abort.signal)
        .then((answer) => {
          setLookup(answer);
          setProblem(null);
        })
        .catch((err: unknown) => {
          if (abort.signal.aborted) return;
          setProblem(
            err instanceof ApiProblem && err.status === 404
              ? `No shipment ${shipmentId} is known.`
              : `The API did not answer: ${err instanceof Error ? err.message : String(err)}`,
          );
        });
    };
    load();
    const timer = setInterval(load, FRESHNESS_EVERY_MS);
    return () => {
      clearInterval(timer);
      abort.abort();
    };
  }, [shipmentId]);
  return { lookup, problem };
}

function useHistory(shipmentId: string, position: string): UnifiedShipmentState[] {
  const [states, setStates] = useState<UnifiedShipmentState[]>([]);
  const ready = position !== '';
  useEffect(() => {
    if (!ready) return;
    const abort = new AbortController();
    const seen: UnifiedShipmentState[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    void followStates(
      `/v1/shipments/${encodeURIComponent(shipmentId)}/events`,
      {
        onState: (state) => {
          seen.push(state);
          timer ??= setTimeout(() => {
            timer = undefined;
            setStates([...seen]);
          }, 250);
        },
      },
      abort.signal,
      positionBefore(position, TIMELINE_HISTORY),
    );
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
    // Started once, from where the fleet stream stood when the detail opened (not again at each
    // change of position: `position` is read, not depended on).
  }, [shipmentId, ready]);
  return states;
}

export function ShipmentDetail({
  shipmentId,
  closeHref,
}: {
  shipmentId: string;
  closeHref: string;
}) {
  const fleet = useFleet();
  const { lookup, problem } = useLookup(shipmentId);
  const history = useHistory(shipmentId, fleet.position);
  const live = fleet.byId.get(shipmentId);
  // The newest of what the stream brought and what the API answered.
  const state =
    live && lookup
      ? live.version >= lookup.state.version
        ? live
        : lookup.state
      : (live ?? lookup?.state);
  const timeline = useMemo(() => timelineOf(history).reverse().slice(0, 50), [history]);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);

  return (
    <section className="shipment-detail" aria-labelledby="detail-title">
      <header className="detail-header">
        <h2 id="detail-title">{shipmentId}</h2>
        {state && <StatusBadge status={state.status} />}
        <a className="close" href={closeHref}>
          Close<span className="visually-hidden"> the detail of {shipmentId}</span>
        </a>
      </header>
      {problem && !state && (
        <p className="notice" role="alert">
          {problem}
        </p>
      )}
      {!state && !problem && <p className="notice">Loading…</p>}
      {state && (
        <>
          <h3>Where it is</h3>
          <dl className="fields">
            <Field label="Vehicle">{state.vehicleId ?? 'not assigned yet'}</Field>
            <Field label="Position" testId="position">
              {state.lat === null || state.lon === null
                ? 'no reading yet'
                : `${state.lat.toFixed(4)}, ${state.lon.toFixed(4)}`}
            </Field>
            <Field label="Reading at">{formatTime(state.positionTime)}</Field>
            <Field label="Speed">
              {state.speedKmh === null ? '—' : `${formatNumber(state.speedKmh)} km/h`}
            </Field>
            <Field label="Travelled">{formatNumber(state.distanceTravelledKm, 1)} km</Field>
            <Field label="Remaining">{formatNumber(state.distanceRemainingKm, 1)} km</Field>
            <Field label="Fuel">
              {state.fuelPct === null ? '—' : `${formatNumber(state.fuelPct)} %`}
            </Field>
            <Field label="Engine">
              {state.engineTempC === null ? '—' : `${formatNumber(state.engineTempC)} °C`}
            </Field>
          </dl>
          <h3>When it arrives</h3>
          <dl className="fields">
            <Field label="Predicted arrival" testId="eta">
              {state.predictedArrival === null
                ? 'no prediction'
                : formatTime(state.predictedArrival)}
            </Field>
            <Field label="Interval">
              {state.predictionLow === null || state.predictionHigh === null
                ? '—'
                : `${formatTime(state.predictionLow)} – ${formatTime(state.predictionHigh)}`}
            </Field>
            <Field label="Model" testId="model-version">
              {state.modelVersion ?? '—'}
            </Field>
            <Field label="Promised">
              {formatTime(state.promisedAt)}
              {state.predictedArrival !== null &&
                ` (${state.predictedArrival > state.promisedAt ? 'late by' : 'early by'} ${formatDuration(state.predictedArrival - state.promisedAt)})`}
            </Field>
          </dl>
          <h3>How fresh</h3>
          <dl className="fields">
            <Field label="Newest input" testId="freshness">
              {formatTime(state.stateUpdatedAt)} ({formatAgo(state.stateUpdatedAt, now)})
            </Field>
            <Field label="Answered from">
              {lookup ? lookup.freshness.source : 'the event stream'}
            </Field>
            <Field label="Consumer lag">
              {lookup && lookup.freshness.lag.groups.length > 0
                ? lookup.freshness.lag.groups
                    .map((g) => `${g.role.split(': ').pop() ?? g.group} ${g.lag}`)
                    .join(' · ')
                : '—'}
            </Field>
            <Field label="Version">{state.version}</Field>
          </dl>
          <dl className="fields">
            <Field label="Customer">{state.customerId}</Field>
            <Field label="From → to">
              {state.originId} → {state.destinationId}
            </Field>
          </dl>
          <h3 id="timeline-title">Recent changes</h3>
          {timeline.length === 0 ? (
            <p className="notice">No change seen yet.</p>
          ) : (
            <ol className="timeline" aria-labelledby="timeline-title">
              {timeline.map((entry) => (
                <li key={`${entry.status}-${entry.from}`}>
                  <StatusBadge status={entry.status} />{' '}
                  <span>
                    {formatTime(entry.from)}
                    {entry.to !== entry.from ? ` – ${formatTime(entry.to)}` : ''}
                  </span>
                  <span className="muted">
                    {' '}
                    · {entry.updates} {entry.updates === 1 ? 'update' : 'updates'}
                    {entry.etaLast !== null &&
                      ` · ETA ${entry.etaFirst !== entry.etaLast && entry.etaFirst !== null ? `${formatTime(entry.etaFirst)} → ` : ''}${formatTime(entry.etaLast)}`}
                    {entry.modelVersion && ` · ${entry.modelVersion}`}
                  </span>
                  <span className="visually-hidden"> ({formatStatus(entry.status)})</span>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
