-- The Unified Shipment State as a table (one row per shipment, the newest version), written by
-- the shipment.state PostgreSQL sink for SQL reporting. Run with search_path set to the schema.
CREATE TABLE IF NOT EXISTS shipment_state (
  shipment_id            text PRIMARY KEY,
  customer_id            text NOT NULL,
  origin_id              text NOT NULL,
  destination_id         text NOT NULL,
  status                 text NOT NULL CHECK (status IN ('CREATED', 'ASSIGNED', 'PICKED_UP', 'IN_TRANSIT',
                                                        'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION', 'CANCELLED')),
  promised_at            timestamptz NOT NULL,
  created_at             timestamptz NOT NULL,
  updated_at             timestamptz NOT NULL,
  vehicle_id             text,
  lat                    double precision,
  lon                    double precision,
  position_time          timestamptz,
  speed_kmh              double precision,
  fuel_pct               double precision,
  engine_temp_c          double precision,
  distance_travelled_km  double precision NOT NULL,
  distance_remaining_km  double precision NOT NULL,
  predicted_arrival      timestamptz,
  prediction_low         timestamptz,
  prediction_high        timestamptz,
  model_version          text,
  -- The upsert only replaces a row with a higher version: replays and reordering are no-ops.
  version                bigint NOT NULL,
  source_offsets         jsonb NOT NULL,
  source_lsn             bigint NOT NULL,
  state_updated_at       timestamptz NOT NULL,
  -- When the sink last wrote the row (wall clock of the database), for freshness checks.
  written_at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS shipment_state_status_idx ON shipment_state (status);
CREATE INDEX IF NOT EXISTS shipment_state_vehicle_idx ON shipment_state (vehicle_id) WHERE vehicle_id IS NOT NULL;
-- The API's lists: keyset pages in (state_updated_at, shipment_id) order, alone or per filter.
CREATE INDEX IF NOT EXISTS shipment_state_updated_idx ON shipment_state (state_updated_at, shipment_id);
CREATE INDEX IF NOT EXISTS shipment_state_status_updated_idx ON shipment_state (status, state_updated_at, shipment_id);
CREATE INDEX IF NOT EXISTS shipment_state_customer_updated_idx ON shipment_state (customer_id, state_updated_at, shipment_id);
