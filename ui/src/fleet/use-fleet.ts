// The fleet store as React state: one store for the app, started once, read by every view.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { FleetSnapshot, FleetStore } from './fleet-store.ts';

export const FleetContext = createContext<FleetStore | null>(null);

export function useFleet(): FleetSnapshot {
  const store = useContext(FleetContext);
  if (!store) throw new Error('useFleet outside of a FleetContext');
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
