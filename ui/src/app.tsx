// The dashboard's frame: navigation, the live status, the API key prompt, and the page the
// route names. One fleet store feeds the map and the shipments pages.
import { useEffect, useState } from 'react';
import { KEY_NEEDED_EVENT } from './api/client.ts';
import { FleetStore } from './fleet/fleet-store.ts';
import { FleetContext, useFleet } from './fleet/use-fleet.ts';
import { formatAgo } from './format.ts';
import { KeyDialog } from './key-dialog.tsx';
import { FleetMap } from './map/fleet-map.tsx';
import { ModelsPage } from './models/models-page.tsx';
import { PipelinePage } from './pipeline/pipeline-page.tsx';
import { href, useRoute } from './router.ts';
import { ShipmentsPage } from './shipments/shipments-page.tsx';

const PAGES = [
  { id: 'map', title: 'Map' },
  { id: 'shipments', title: 'Shipments' },
  { id: 'pipeline', title: 'Pipeline' },
  { id: 'models', title: 'Models' },
] as const;

function LiveStatus() {
  const fleet = useFleet();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  const connection = fleet.connected ? 'live' : fleet.loaded ? 'reconnecting…' : 'connecting…';
  return (
    <p className="live-status">
      <span className={`dot ${fleet.connected ? 'on' : 'off'}`} aria-hidden="true" />
      {/* Only the connection is announced: the counts change too often to be read out. */}
      <span role="status">{connection}</span>
      <span>
        {' '}
        · {fleet.shipments.length} shipments · {fleet.vehicles.length} vehicles · last change{' '}
        {formatAgo(fleet.lastChangeAt, Math.max(now, fleet.lastChangeAt ?? 0))}
      </span>
    </p>
  );
}

function Page() {
  const route = useRoute();
  const [page] = route.segments;
  useEffect(() => {
    const title = PAGES.find((p) => p.id === page)?.title ?? 'Map';
    document.title = `${title} · Continuum`;
  }, [page]);
  switch (page) {
    case 'shipments':
      return <ShipmentsPage route={route} />;
    case 'pipeline':
      return <PipelinePage />;
    case 'models':
      return <ModelsPage />;
    default:
      return <FleetMap />;
  }
}

export function App() {
  const [store] = useState(() => new FleetStore());
  const [askKey, setAskKey] = useState(false);
  const route = useRoute();
  const current = route.segments[0] ?? 'map';

  useEffect(() => {
    const abort = new AbortController();
    void store.start(abort.signal);
    return () => abort.abort();
  }, [store]);

  useEffect(() => {
    const ask = (): void => setAskKey(true);
    window.addEventListener(KEY_NEEDED_EVENT, ask);
    return () => window.removeEventListener(KEY_NEEDED_EVENT, ask);
  }, []);

  return (
    <FleetContext.Provider value={store}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <a className="brand" href={href('/map')}>
          Continuum
        </a>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={href(`/${p.id}`)} aria-current={current === p.id ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <LiveStatus />
        <button type="button" className="link-button" onClick={() => setAskKey(true)}>
          API key
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page />
      </main>
      {askKey && (
        <KeyDialog
          onClose={(saved) => {
            setAskKey(false);
            if (saved) window.location.reload();
          }}
        />
      )}
    </FleetContext.Provider>
  );
}
