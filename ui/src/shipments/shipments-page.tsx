// Shipments: filter by status, search, and the detail of the one chosen (beside the list on a
// wide screen, instead of it on a phone).
import { useEffect, useMemo, useState } from 'react';
import { getJsonOrMissing } from '../api/client.ts';
import { STATUSES, type ShipmentLookup, type ShipmentStatus } from '../api/types.ts';
import { useFleet } from '../fleet/use-fleet.ts';
import { formatStatus, formatTime } from '../format.ts';
import { href, navigate, type Route } from '../router.ts';
import { ShipmentDetail } from './shipment-detail.tsx';
import { countByStatus, matches } from './shipment-filter.ts';
import { StatusBadge } from './status-badge.tsx';

/** Rows rendered at most: enough to scan, few enough to stay quick on a phone. */
const MAX_ROWS = 200;

function listPath(status: string | null, query: string, id?: string): string {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (query) params.set('q', query);
  const search = params.toString();
  return `/shipments${id ? `/${encodeURIComponent(id)}` : ''}${search ? `?${search}` : ''}`;
}

export function ShipmentsPage({ route }: { route: Route }) {
  const fleet = useFleet();
  const selected = route.segments[1];
  const statusParam = route.params.get('status');
  const status = STATUSES.includes(statusParam as ShipmentStatus)
    ? (statusParam as ShipmentStatus)
    : null;
  const query = route.params.get('q') ?? '';
  const [typed, setTyped] = useState(query);
  useEffect(() => setTyped(query), [query]);

  // The search applies as one types, a moment after the last key (the route keeps it).
  useEffect(() => {
    if (typed === query) return;
    const timer = setTimeout(() => navigate(listPath(status, typed, selected)), 250);
    return () => clearTimeout(timer);
  }, [typed, query, status, selected]);

  const counts = useMemo(() => countByStatus(fleet.shipments), [fleet.shipments]);
  const found = useMemo(
    () => fleet.shipments.filter((s) => matches(s, { status, query })),
    [fleet.shipments, status, query],
  );
  const shown = found.slice(0, MAX_ROWS);

  return (
    <div className={`shipments-page${selected ? ' has-detail' : ''}`}>
      <section className="shipment-list" aria-labelledby="shipments-title">
        <h1 id="shipments-title">Shipments</h1>
        <form
          role="search"
          className="search"
          onSubmit={(event) => {
            event.preventDefault();
            const wanted = typed.trim();
            const exact = fleet.byId.get(wanted);
            if (exact || !wanted) {
              navigate(listPath(status, wanted, exact?.shipmentId ?? found[0]?.shipmentId));
              return;
            }
            // An id this page has not loaded (yet) may still be one the API knows: ask it.
            void getJsonOrMissing<ShipmentLookup>(`/v1/shipments/${encodeURIComponent(wanted)}`)
              .catch(() => undefined)
              .then((lookup) =>
                navigate(
                  listPath(status, wanted, lookup?.state.shipmentId ?? found[0]?.shipmentId),
                ),
              );
          }}
        >
          <label htmlFor="shipment-search">Search shipments</label>
          <input
            id="shipment-search"
            type="search"
            placeholder="shipment, customer, vehicle or destination"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
          />
          <button type="submit">Open</button>
        </form>
        <fieldset className="status-filter">
          <legend>Status</legend>
          <label className={status === null ? 'chosen' : ''}>
            <input
              type="radio"
              name="status"
              checked={status === null}
              onChange={() => navigate(listPath(null, query, selected))}
            />
            all <span className="count">{fleet.shipments.length}</span>
          </label>
          {STATUSES.map((s) => (
            <label key={s} className={status === s ? 'chosen' : ''}>
              <input
                type="radio"
                name="status"
                checked={status === s}
                onChange={() => navigate(listPath(s, query, selected))}
              />
              {formatStatus(s)} <span className="count">{counts.get(s) ?? 0}</span>
            </label>
          ))}
        </fieldset>
        {!fleet.loaded && <p className="notice">Loading shipments…</p>}
        {fleet.error && (
          <p className="notice" role="alert">
            Shipments could not be loaded: {fleet.error}
          </p>
        )}
        <div className="table-scroll">
          <table>
            <caption>
              {found.length} {found.length === 1 ? 'shipment' : 'shipments'}
              {found.length > MAX_ROWS ? `, the ${MAX_ROWS} changed last shown` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Shipment</th>
                <th scope="col">Status</th>
                <th scope="col">Vehicle</th>
                <th scope="col" className="wide-only">
                  Destination
                </th>
                <th scope="col">ETA</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((s) => (
                <tr key={s.shipmentId} aria-selected={s.shipmentId === selected}>
                  <th scope="row">
                    <a href={href(listPath(status, query, s.shipmentId))}>{s.shipmentId}</a>
                  </th>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td>{s.vehicleId ?? '—'}</td>
                  <td className="wide-only">{s.destinationId}</td>
                  <td>{formatTime(s.predictedArrival)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {selected && (
        <ShipmentDetail
          shipmentId={selected}
          closeHref={href(listPath(status, query))}
          key={selected}
        />
      )}
    </div>
  );
}
