import { shipmentState } from '../../../api/fixtures.ts';
import { matches } from './shipment-filter.ts';
import { timelineOf } from './timeline.ts';

describe('a shipment timeline', () => {
  it('makes one entry of each run of a status, with how the ETA moved, in version order', () => {
    const states = [
      shipmentState({
        version: 3,
        status: 'IN_TRANSIT',
        stateUpdatedAt: 30,
        predictedArrival: 900,
      }),
      shipmentState({
        version: 1,
        status: 'PICKED_UP',
        stateUpdatedAt: 10,
        predictedArrival: 1_000,
      }),
      shipmentState({
        version: 2,
        status: 'IN_TRANSIT',
        stateUpdatedAt: 20,
        predictedArrival: 950,
      }),
      shipmentState({
        version: 4,
        status: 'DELIVERED',
        stateUpdatedAt: 40,
        predictedArrival: null,
      }),
    ];
    expect(
      timelineOf(states).map((e) => [e.status, e.from, e.to, e.updates, e.etaFirst, e.etaLast]),
    ).toEqual([
      ['PICKED_UP', 10, 10, 1, 1_000, 1_000],
      ['IN_TRANSIT', 20, 30, 2, 950, 900],
      ['DELIVERED', 40, 40, 1, null, null],
    ]);
  });

  it('is found by status and by any of its ids, whatever the case', () => {
    const state = shipmentState({
      shipmentId: 'SHP-42',
      vehicleId: 'VEH-007',
      status: 'IN_TRANSIT',
    });
    expect(matches(state, { status: null, query: 'veh-007' })).toBe(true);
    expect(matches(state, { status: 'IN_TRANSIT', query: 'shp-4' })).toBe(true);
    expect(matches(state, { status: 'DELIVERED', query: '' })).toBe(false);
    expect(matches(state, { status: null, query: 'VEH-008' })).toBe(false);
  });
});
