// Training windows by event time and count, sliding and tumbling, and where they start per
// partition (what the trainer commits, so a restart reads the window again).
import type { DeliveryExample } from '../schemas/types.ts';
import { TrainingWindow, type TrainingWindowOptions } from './training-window.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

function entry(id: number, arrivalH: number, partition = 0, offset = id) {
  const example: DeliveryExample = {
    shipmentId: `S-${id}`,
    vehicleId: 'V',
    originId: 'A',
    destinationId: 'B',
    promisedAt: 0,
    actualArrival: T0 + arrivalH * H,
    checkpoints: [],
  };
  return { example, partition, offset };
}

const sliding: TrainingWindowOptions = {
  kind: 'sliding',
  spanMs: 10 * H,
  maxDeliveries: 5,
  slideMs: 3 * H,
  slideDeliveries: 100,
};

describe('sliding window', () => {
  it('keeps the deliveries within the span of the newest arrival, at most maxDeliveries', () => {
    const w = new TrainingWindow(sliding);
    [0, 1, 2, 11].forEach((h, i) => w.add(entry(i, h)));
    // 11 − 10 = 1: arrivals at 0 and 1 h are out of the span.
    expect(w.examples().map((e) => e.shipmentId)).toEqual(['S-2', 'S-3']);
    for (let i = 4; i < 10; i++) w.add(entry(i, 11 + i / 10));
    expect(w.size).toBe(5);
    expect(w.examples().map((e) => e.shipmentId)).toEqual(['S-5', 'S-6', 'S-7', 'S-8', 'S-9']);
  });

  it('is due when arrivals moved a slide on, or a count of new ones came', () => {
    const w = new TrainingWindow(sliding);
    w.add(entry(1, 0));
    w.add(entry(2, 2.9));
    expect(w.due).toBe(false);
    w.add(entry(3, 3));
    expect(w.due).toBe(true);
    w.markTrained();
    expect(w.due).toBe(false);
    const counted = new TrainingWindow({ ...sliding, slideDeliveries: 2 });
    counted.add(entry(1, 0));
    expect(counted.due).toBe(false);
    counted.add(entry(2, 0.1));
    expect(counted.due).toBe(true);
  });
});

describe('tumbling window', () => {
  const tumbling: TrainingWindowOptions = { ...sliding, kind: 'tumbling', spanMs: 24 * H };

  it('closes when a delivery arrives past its span; that one starts the next window', () => {
    const w = new TrainingWindow(tumbling);
    w.add(entry(1, 1));
    w.add(entry(2, 23));
    expect(w.due).toBe(false);
    w.add(entry(3, 25));
    expect(w.due).toBe(true);
    expect(w.examples().map((e) => e.shipmentId)).toEqual(['S-1', 'S-2']);
    w.markTrained();
    expect(w.examples().map((e) => e.shipmentId)).toEqual(['S-3']);
    expect(w.due).toBe(false);
  });

  it('closes at maxDeliveries', () => {
    const w = new TrainingWindow(tumbling);
    for (let i = 0; i < 6; i++) w.add(entry(i, i / 10));
    expect(w.due).toBe(true);
    expect(w.size).toBe(5);
    w.markTrained();
    expect(w.examples().map((e) => e.shipmentId)).toEqual(['S-5']);
  });
});

describe('window offsets', () => {
  it('starts each partition at the oldest record it holds, or after the last read', () => {
    const w = new TrainingWindow({ ...sliding, maxDeliveries: 2 });
    w.add(entry(1, 1, 0, 10));
    w.add(entry(2, 2, 1, 20));
    w.add(entry(3, 3, 1, 21)); // S-1 leaves: at most 2
    w.markRead(2, 7); // an undecodable record on partition 2
    expect([...w.startOffsets()].sort()).toEqual([
      [0, 11],
      [1, 20],
      [2, 8],
    ]);
  });

  it('counts a record read again once, and forgets partitions another member took', () => {
    const w = new TrainingWindow(sliding);
    expect(w.add(entry(1, 1, 0, 10))).toBe(true);
    expect(w.add(entry(1, 1, 0, 10))).toBe(false);
    w.add(entry(2, 2, 1, 20));
    w.retainPartitions(new Set([1]));
    expect(w.examples().map((e) => e.shipmentId)).toEqual(['S-2']);
    expect([...w.startOffsets()]).toEqual([[1, 20]]);
  });
});
