import type { VehicleTelemetry } from '../../schemas/types.ts';
import type { SinkRecord } from '../../connectors/sinks/sink.ts';
import {
  bucketsOf,
  type TelemetryBucket,
} from '../../connectors/sinks/mongodb/telemetry-buckets.ts';
import { HistoryPage, lowestEventTime } from './telemetry-history-page.ts';

const T0 = 1_790_000_000_000;

function record(seq: number, eventTime = T0 + seq * 1_000): SinkRecord<VehicleTelemetry> {
  return {
    topic: 'telemetry.clean',
    partition: 0,
    offset: String(seq),
    key: 'A',
    timestamp: eventTime,
    value: {
      eventId: `ev-${String(seq).padStart(3, '0')}`,
      vehicleId: 'A',
      eventTime,
      lat: 48,
      lon: 11,
      speed: 50,
      speedUnit: 'KMH',
      headingDeg: 90,
      fuelPct: 70,
      engineTemp: 88,
      temperatureUnit: 'CELSIUS',
      odometerKm: 1_000 + seq,
    },
  };
}

/** Buckets of `records` cut every `size` records, as one flush each, in `start` order. */
function flushedEvery(size: number, records: SinkRecord<VehicleTelemetry>[]): TelemetryBucket[] {
  const buckets: TelemetryBucket[] = [];
  for (let i = 0; i < records.length; i += size)
    buckets.push(...bucketsOf(records.slice(i, i + size)));
  return buckets;
}

function byStart(buckets: TelemetryBucket[]): TelemetryBucket[] {
  return [...buckets].sort(
    (a, b) => a.start.getTime() - b.start.getTime() || (a._id < b._id ? -1 : 1),
  );
}

/** What the adapter does: buckets in start order until the page is complete. */
function page(
  buckets: TelemetryBucket[],
  query: ConstructorParameters<typeof HistoryPage>[0],
): string[] {
  const p = new HistoryPage(query);
  for (const bucket of byStart(buckets)) {
    if (p.completeBefore(bucket.start.getTime())) break;
    p.add(bucket);
  }
  return p.readings().map((r) => r.eventId);
}

const ids = (seqs: number[]): string[] => seqs.map((s) => `ev-${String(s).padStart(3, '0')}`);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

describe('HistoryPage', () => {
  const records = range(0, 40).map((s) => record(s));

  it('counts a reading stored twice (a replay cut at other flush boundaries) once', () => {
    const twice = [...flushedEvery(7, records), ...flushedEvery(10, records)];
    expect(page(twice, { limit: 1_000 })).toEqual(ids(range(0, 40)));
  });

  it('pages with the cursor through duplicated buckets, each reading exactly once', () => {
    const twice = [...flushedEvery(7, records), ...flushedEvery(3, records)];
    const seen: string[] = [];
    let after: { eventTime: number; eventId: string } | undefined;
    for (let n = 0; n < 20; n++) {
      const p = new HistoryPage({ limit: 6, ...(after ? { after } : {}) });
      for (const b of byStart(twice)) {
        if (p.completeBefore(b.start.getTime())) break;
        p.add(b);
      }
      const got = p.readings();
      if (got.length === 0) break;
      seen.push(...got.map((r) => r.eventId));
      const last = got.at(-1);
      after = last && { eventTime: last.eventTime, eventId: last.eventId };
    }
    expect(seen).toEqual(ids(range(0, 40)));
  });

  it('keeps to the window: from inclusive, to exclusive', () => {
    expect(
      page(flushedEvery(8, records), { from: T0 + 5_000, to: T0 + 9_000, limit: 100 }),
    ).toEqual(ids([5, 6, 7, 8]));
  });

  it('orders by (eventTime, eventId) and continues after a cursor within one event time', () => {
    const sameTime = [record(1, T0), record(3, T0), record(2, T0), record(4, T0 + 1)];
    expect(page(bucketsOf(sameTime), { limit: 10 })).toEqual(ids([1, 2, 3, 4]));
    expect(
      page(bucketsOf(sameTime), { limit: 2, after: { eventTime: T0, eventId: 'ev-001' } }),
    ).toEqual(ids([2, 3]));
  });

  it('reads on while a later-starting bucket can still hold an earlier reading', () => {
    // Out of order in the topic: the second flush's bucket starts before the first one ends.
    const late = [record(0), record(1), record(5), record(6), record(2), record(3), record(4)];
    const buckets = [...bucketsOf(late.slice(0, 4)), ...bucketsOf(late.slice(4))];
    expect(page(buckets, { limit: 3 })).toEqual(ids([0, 1, 2]));
  });

  it('is complete only with `limit` readings that end before the next bucket starts', () => {
    const p = new HistoryPage({ limit: 2 });
    p.add(bucketsOf([record(1), record(2)])[0] as TelemetryBucket);
    expect(p.completeBefore(T0 + 2_000)).toBe(false);
    expect(p.completeBefore(T0 + 2_001)).toBe(true);
    expect(new HistoryPage({ limit: 3 }).completeBefore(Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('asks for buckets ending at or after the later of from and the cursor', () => {
    expect(lowestEventTime({ limit: 1 })).toBeUndefined();
    expect(lowestEventTime({ limit: 1, from: 5 })).toBe(5);
    expect(lowestEventTime({ limit: 1, from: 5, after: { eventTime: 9, eventId: 'x' } })).toBe(9);
    expect(lowestEventTime({ limit: 1, from: 12, after: { eventTime: 9, eventId: 'x' } })).toBe(12);
  });
});
