-- What really happened to each finished shipment, known only to the simulator: kept apart from
-- `shipments` so the CDC source never streams it; ETA quality is measured against arrived_at.
CREATE TABLE IF NOT EXISTS shipment_ground_truth (
  shipment_id      text PRIMARY KEY,
  seed             bigint NOT NULL,
  vehicle_id       text,
  final_status     text NOT NULL CHECK (final_status IN ('DELIVERED', 'CANCELLED')),
  created_at       timestamptz NOT NULL,
  promised_at      timestamptz NOT NULL,
  picked_up_at     timestamptz,
  -- The true arrival (the simulated time of DELIVERED); NULL for cancelled shipments.
  arrived_at       timestamptz,
  route_km         double precision,
  exception_count  integer NOT NULL,
  recorded_at      timestamptz NOT NULL DEFAULT now()
);
