// Hash routes (#/map, #/shipments?status=…&q=…, #/shipments/SHP-1, #/pipeline, #/models): the
// API owns every server path, and a hash never reaches it.
import { useSyncExternalStore } from 'react';

export interface Route {
  /** Path segments after `#/`, e.g. ['shipments', 'SHP-000001']. */
  segments: string[];
  params: URLSearchParams;
}

function current(): string {
  return window.location.hash.replace(/^#/, '') || '/map';
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, current);
  const [path = '', query = ''] = hash.split('?');
  return {
    segments: path.split('/').filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(query),
  };
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export function href(path: string): string {
  return `#${path}`;
}
