// Asks for an API key when the API wants one (reads are open only from loopback by default).
// The key stays in this browser tab's session storage and goes out as X-API-Key.
import { useEffect, useRef, useState } from 'react';
import { apiKey, setApiKey } from './api/client.ts';

export function KeyDialog({ onClose }: { onClose: (saved: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [key, setKey] = useState(apiKey() ?? '');
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} aria-labelledby="key-title" onClose={() => onClose(false)}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          setApiKey(key.trim() || null);
          onClose(true);
        }}
      >
        <h2 id="key-title">API key</h2>
        <p>
          The API needs a key with scope <code>read</code> for this browser (
          <code>npx continuum api keygen --name you --scopes read</code> makes one;{' '}
          <code>npm start</code> prints one for its run).
        </p>
        <label htmlFor="api-key">Key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(event) => setKey(event.target.value)}
        />
        <div className="dialog-actions">
          <button type="submit">Use this key</button>
          <button type="button" onClick={() => onClose(false)}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
