// The fleet on a map of the simulated world: vehicles and the shipments they carry move as their
// states change over server-sent events. The style is inline (no tiles, no glyphs: labels are
// HTML markers), so the map needs nothing beyond the page.
import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { useEffect, useRef, useState } from 'react';
import type { UnifiedShipmentState } from '../api/types.ts';
import type { Vehicle } from '../fleet/fleet-store.ts';
import { useFleet } from '../fleet/use-fleet.ts';
import { formatStatus } from '../format.ts';
import { navigate } from '../router.ts';
import { STATUS_COLORS } from './status-colors.ts';
import { CITIES, worldBounds, worldFeatures } from './world-geometry.ts';

maplibregl.setWorkerUrl(workerUrl);

const EMPTY = { type: 'FeatureCollection' as const, features: [] };

function vehicleFeatures(vehicles: readonly Vehicle[]): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: vehicles.map((v) => ({
      type: 'Feature',
      properties: { vehicleId: v.vehicleId, carrying: v.shipmentIds.length },
      geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
    })),
  };
}

function shipmentFeatures(shipments: readonly UnifiedShipmentState[]): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: shipments
      .filter((s) => s.lat !== null && s.lon !== null)
      .map((s) => ({
        type: 'Feature',
        properties: { shipmentId: s.shipmentId, status: s.status, color: STATUS_COLORS[s.status] },
        geometry: { type: 'Point', coordinates: [s.lon as number, s.lat as number] },
      })),
  };
}

function style(): maplibregl.StyleSpecification {
  return {
    version: 8,
    sources: {
      world: { type: 'geojson', data: worldFeatures() as GeoJSON.FeatureCollection },
      shipments: { type: 'geojson', data: EMPTY },
      vehicles: { type: 'geojson', data: EMPTY },
    },
    layers: [
      { id: 'sea', type: 'background', paint: { 'background-color': '#d9e4ee' } },
      {
        id: 'land',
        type: 'fill',
        source: 'world',
        filter: ['==', ['get', 'kind'], 'land'],
        paint: { 'fill-color': '#f3f1ea' },
      },
      {
        id: 'outline',
        type: 'line',
        source: 'world',
        filter: ['==', ['get', 'kind'], 'land'],
        paint: { 'line-color': '#9aa5b1', 'line-width': 1.5 },
      },
      {
        id: 'roads',
        type: 'line',
        source: 'world',
        filter: ['==', ['get', 'kind'], 'road'],
        paint: { 'line-color': '#d5cdbb', 'line-width': 2 },
      },
      {
        id: 'cities',
        type: 'circle',
        source: 'world',
        filter: ['==', ['get', 'kind'], 'city'],
        paint: {
          'circle-radius': ['case', ['get', 'depot'], 7, 4],
          'circle-color': ['case', ['get', 'depot'], '#34495e', '#7f8c8d'],
        },
      },
      {
        id: 'shipments',
        type: 'circle',
        source: 'shipments',
        paint: {
          'circle-radius': 4,
          'circle-color': ['get', 'color'],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 1,
        },
      },
      {
        id: 'vehicles',
        type: 'circle',
        source: 'vehicles',
        paint: {
          'circle-radius': 8,
          'circle-color': 'rgba(0,0,0,0)',
          'circle-stroke-color': '#1b2a3a',
          'circle-stroke-width': 2.5,
        },
      },
    ],
  };
}

function label(text: string, className: string): HTMLElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  element.setAttribute('aria-hidden', 'true');
  return element;
}

export function FleetMap() {
  const fleet = useFleet();
  const container = useRef<HTMLDivElement>(null);
  const map = useRef<maplibregl.Map | null>(null);
  const vehicleLabels = useRef(new Map<string, maplibregl.Marker>());
  const [ready, setReady] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    if (!container.current) return;
    let instance: maplibregl.Map;
    try {
      instance = new maplibregl.Map({
        container: container.current,
        style: style(),
        bounds: worldBounds(),
        fitBoundsOptions: { padding: 24 },
        attributionControl: false,
        maxZoom: 13,
      });
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err));
      return;
    }
    map.current = instance;
    instance.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    // Errors shown on the page, not thrown into the console.
    instance.on('error', (event) => setFailure(event.error.message));
    instance.on('load', () => setReady(true));
    for (const city of CITIES)
      new maplibregl.Marker({
        element: label(city.name, city.depot ? 'city-label depot' : 'city-label'),
        anchor: 'top',
        offset: [0, 6],
      })
        .setLngLat([city.lon, city.lat])
        .addTo(instance);
    const open = (layer: 'vehicles' | 'shipments') => (event: maplibregl.MapLayerMouseEvent) => {
      const properties: Record<string, unknown> | undefined = event.features?.[0]?.properties;
      if (layer === 'shipments' && typeof properties?.shipmentId === 'string')
        navigate(`/shipments/${properties.shipmentId}`);
      if (layer === 'vehicles' && typeof properties?.vehicleId === 'string')
        navigate(`/shipments?q=${encodeURIComponent(properties.vehicleId)}`);
    };
    instance.on('click', 'shipments', open('shipments'));
    instance.on('click', 'vehicles', open('vehicles'));
    for (const layer of ['shipments', 'vehicles']) {
      instance.on('mouseenter', layer, () => (instance.getCanvas().style.cursor = 'pointer'));
      instance.on('mouseleave', layer, () => (instance.getCanvas().style.cursor = ''));
    }
    const labels = vehicleLabels.current;
    return () => {
      labels.clear();
      instance.remove();
      map.current = null;
    };
  }, []);

  useEffect(() => {
    const instance = map.current;
    if (!instance || !ready) return;
    // setData's promise says when the worker has the data; nothing waits for that here.
    void instance
      .getSource<maplibregl.GeoJSONSource>('vehicles')
      ?.setData(vehicleFeatures(fleet.vehicles));
    void instance
      .getSource<maplibregl.GeoJSONSource>('shipments')
      ?.setData(shipmentFeatures(fleet.shipments));
    const labels = vehicleLabels.current;
    for (const v of fleet.vehicles) {
      let marker = labels.get(v.vehicleId);
      if (!marker) {
        marker = new maplibregl.Marker({
          element: label(v.vehicleId, 'vehicle-label'),
          anchor: 'bottom',
          offset: [0, -10],
        });
        labels.set(v.vehicleId, marker.setLngLat([v.lon, v.lat]).addTo(instance));
      } else marker.setLngLat([v.lon, v.lat]);
    }
  }, [fleet, ready]);

  const onTheRoad = fleet.shipments.filter(
    (s) => s.lat !== null && !['DELIVERED', 'CANCELLED'].includes(s.status),
  ).length;
  return (
    <section className="map-page" aria-labelledby="map-title">
      <h1 id="map-title" className="visually-hidden">
        Fleet map
      </h1>
      <div
        ref={container}
        className="fleet-map"
        role="img"
        aria-label={`Map of the simulated region: ${fleet.vehicles.length} vehicles and ${onTheRoad} shipments on the road. The shipments page lists them as text.`}
      />
      {failure && (
        <p className="notice" role="alert">
          The map cannot be drawn here ({failure}). The shipments page has the same data as a list.
        </p>
      )}
      <ul className="legend" aria-label="Legend">
        <li>
          <span className="swatch vehicle" aria-hidden="true" /> vehicle
        </li>
        {(
          [
            'ASSIGNED',
            'PICKED_UP',
            'IN_TRANSIT',
            'OUT_FOR_DELIVERY',
            'DELIVERED',
            'EXCEPTION',
          ] as const
        ).map((status) => (
          <li key={status}>
            <span
              className="swatch"
              style={{ background: STATUS_COLORS[status] }}
              aria-hidden="true"
            />{' '}
            {formatStatus(status)}
          </li>
        ))}
      </ul>
    </section>
  );
}
