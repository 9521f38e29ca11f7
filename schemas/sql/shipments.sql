-- The system of record for shipments (PostgreSQL). The fleet simulator writes here in
-- transactions; the CDC source streams every committed change of `shipments` to Kafka.
CREATE TABLE IF NOT EXISTS shipments (
  shipment_id      text PRIMARY KEY,
  customer_id      text NOT NULL,
  origin_id        text NOT NULL,
  origin_lat       double precision NOT NULL,
  origin_lon       double precision NOT NULL,
  destination_id   text NOT NULL,
  destination_lat  double precision NOT NULL,
  destination_lon  double precision NOT NULL,
  vehicle_id       text,
  status           text NOT NULL CHECK (status IN ('CREATED', 'ASSIGNED', 'PICKED_UP', 'IN_TRANSIT',
                                                  'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION', 'CANCELLED')),
  weight_kg        double precision NOT NULL CHECK (weight_kg > 0),
  promised_at      timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  -- 1 at creation, +1 per change: lets consumers prove no change was lost.
  change_seq       bigint NOT NULL DEFAULT 1
);

-- `before` images of UPDATE and DELETE carry the whole row.
ALTER TABLE shipments REPLICA IDENTITY FULL;

CREATE INDEX IF NOT EXISTS shipments_vehicle_idx ON shipments (vehicle_id) WHERE vehicle_id IS NOT NULL;
