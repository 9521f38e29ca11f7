// Every shipment's latest state in the browser: one page-by-page load from the API, then every
// change over server-sent events. The stream starts first and the load second, and a state
// replaces another only when its version is newer, so nothing falls between the two. Views are
// told at most four times a second: the fleet changes far more often than anyone can read.
import { getJson } from '../api/client.ts';
import { followStates } from '../api/state-stream.ts';
import type { ShipmentPage, UnifiedShipmentState } from '../api/types.ts';

export interface Vehicle {
  vehicleId: string;
  lat: number;
  lon: number;
  positionTime: number;
  speedKmh: number | null;
  /** Shipments it carries (not yet delivered or cancelled). */
  shipmentIds: string[];
}

export interface FleetSnapshot {
  /** Newest change first. */
  shipments: readonly UnifiedShipmentState[];
  byId: ReadonlyMap<string, UnifiedShipmentState>;
  vehicles: readonly Vehicle[];
  loaded: boolean;
  connected: boolean;
  /** Wall time of the last change received (ms). */
  lastChangeAt: number | null;
  /** The stream's position after the last change: `partition:offset,…`. */
  position: string;
  error: string | null;
}

const DONE = new Set(['DELIVERED', 'CANCELLED']);
const NOTIFY_EVERY_MS = 250;
/** The load stops after this many states (pages of 500): the map and the list stay usable. */
const MAX_LOADED = 5_000;

function vehiclesOf(shipments: Iterable<UnifiedShipmentState>): Vehicle[] {
  const vehicles = new Map<string, Vehicle>();
  for (const s of shipments) {
    if (!s.vehicleId || s.lat === null || s.lon === null || s.positionTime === null) continue;
    let v = vehicles.get(s.vehicleId);
    if (!v || s.positionTime > v.positionTime) {
      v = {
        vehicleId: s.vehicleId,
        lat: s.lat,
        lon: s.lon,
        positionTime: s.positionTime,
        speedKmh: s.speedKmh,
        shipmentIds: v?.shipmentIds ?? [],
      };
      vehicles.set(s.vehicleId, v);
    }
    if (!DONE.has(s.status)) v.shipmentIds.push(s.shipmentId);
  }
  return [...vehicles.values()].sort((a, b) => a.vehicleId.localeCompare(b.vehicleId));
}

export class FleetStore {
  private readonly states = new Map<string, UnifiedShipmentState>();
  private readonly listeners = new Set<() => void>();
  private snapshot: FleetSnapshot = {
    shipments: [],
    byId: new Map(),
    vehicles: [],
    loaded: false,
    connected: false,
    lastChangeAt: null,
    position: '',
    error: null,
  };
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private status = {
    loaded: false,
    connected: false,
    lastChangeAt: null as number | null,
    position: '',
    error: null as string | null,
  };

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): FleetSnapshot => this.snapshot;

  /** Keeps the newer of two states of a shipment (versions only rise). */
  apply(state: UnifiedShipmentState): void {
    const known = this.states.get(state.shipmentId);
    if (known && known.version >= state.version) return;
    this.states.set(state.shipmentId, state);
    this.changed();
  }

  /** Streams changes and loads every state until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      void followStates(
        '/v1/events',
        {
          onReady: (position) => {
            this.status.position = position;
            resolve();
          },
          onState: (state, position) => {
            this.status.position = position;
            this.status.lastChangeAt = Date.now();
            this.apply(state);
          },
          onConnection: (connected) => {
            this.status.connected = connected;
            this.changed();
          },
        },
        signal,
      );
    });
    await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    try {
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
        const page: ShipmentPage = await getJson<ShipmentPage>(`/v1/shipments?${query}`, signal);
        for (const state of page.items) this.apply(state);
        cursor = page.nextCursor;
      } while (cursor && this.states.size < MAX_LOADED && !signal.aborted);
      this.status.error = null;
    } catch (err) {
      if (signal.aborted) return;
      this.status.error = err instanceof Error ? err.message : String(err);
    }
    this.status.loaded = true;
    this.changed();
  }

  private changed(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (!this.dirty) return;
      this.dirty = false;
      this.rebuild();
    }, NOTIFY_EVERY_MS);
  }

  private rebuild(): void {
    const shipments = [...this.states.values()].sort(
      (a, b) => b.stateUpdatedAt - a.stateUpdatedAt || a.shipmentId.localeCompare(b.shipmentId),
    );
    this.snapshot = {
      shipments,
      byId: new Map(this.states),
      vehicles: vehiclesOf(this.states.values()),
      ...this.status,
    };
    for (const listener of this.listeners) listener();
  }
}
