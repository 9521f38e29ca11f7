import type { ShipmentStatus } from '../api/types.ts';
import { formatStatus } from '../format.ts';
import { STATUS_COLORS } from '../map/status-colors.ts';

export function StatusBadge({ status }: { status: ShipmentStatus }) {
  return (
    <span className="status-badge" style={{ borderColor: STATUS_COLORS[status] }}>
      <span className="swatch" style={{ background: STATUS_COLORS[status] }} aria-hidden="true" />
      {formatStatus(status)}
    </span>
  );
}
