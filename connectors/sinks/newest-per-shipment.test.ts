import type { UnifiedShipmentState } from '../../schemas/types.ts';
import { NewestPerShipment } from './newest-per-shipment.ts';

function state(shipmentId: string, version: number, status = 'IN_TRANSIT'): UnifiedShipmentState {
  return { shipmentId, version, status } as UnifiedShipmentState;
}

describe('NewestPerShipment', () => {
  it('keeps the highest version per shipment whatever the arrival order', () => {
    const batch = new NewestPerShipment();
    for (const s of [state('A', 1), state('B', 5), state('A', 3), state('A', 2), state('B', 4)]) {
      batch.offer(s);
    }
    expect(batch.size).toBe(2);
    expect(batch.values().map((s) => [s.shipmentId, s.version])).toEqual([
      ['A', 3],
      ['B', 5],
    ]);
  });

  it('keeps the first of two states with the same version', () => {
    const batch = new NewestPerShipment();
    batch.offer(state('A', 2, 'ASSIGNED'));
    batch.offer(state('A', 2, 'CANCELLED'));
    expect(batch.values()).toEqual([state('A', 2, 'ASSIGNED')]);
  });

  it('is empty after clear', () => {
    const batch = new NewestPerShipment();
    batch.offer(state('A', 1));
    batch.clear();
    expect(batch.size).toBe(0);
    expect(batch.values()).toEqual([]);
  });
});
