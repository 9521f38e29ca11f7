import type { VehicleTelemetry } from '../../../schemas/types.ts';
import type { SinkRecord } from '../sink.ts';
import { bucketId, bucketsOf, readingsOf } from './telemetry-buckets.ts';

const T0 = 1_790_000_000_000;

function record(
  vehicle: string,
  seq: number,
  offset: number,
  partition = 0,
  eventTime = T0 + seq * 1_000,
): SinkRecord<VehicleTelemetry> {
  return {
    topic: 'telemetry.clean',
    partition,
    offset: String(offset),
    key: vehicle,
    timestamp: eventTime,
    value: {
      eventId: `ev-${vehicle}-${seq}`,
      vehicleId: vehicle,
      eventTime,
      lat: 48 + seq / 100,
      lon: 11,
      speed: 50 + seq,
      speedUnit: 'KMH',
      headingDeg: 90,
      fuelPct: 70,
      engineTemp: 88,
      temperatureUnit: 'CELSIUS',
      odometerKm: 1_000 + seq,
    },
  };
}

describe('bucketsOf', () => {
  it('groups a flush per vehicle, in offset order, with its time span and count', () => {
    const records = [
      record('A', 1, 10),
      record('B', 1, 11),
      record('A', 2, 12),
      record('A', 3, 13),
    ];
    const buckets = bucketsOf(records);
    expect(buckets.map((b) => [b.vehicleId, b.count, b.columns.eventId])).toEqual([
      ['A', 3, ['ev-A-1', 'ev-A-2', 'ev-A-3']],
      ['B', 1, ['ev-B-1']],
    ]);
    const a = buckets[0];
    expect(a?.start).toEqual(new Date(T0 + 1_000));
    expect(a?.end).toEqual(new Date(T0 + 3_000));
    expect(a?.columns.offset).toEqual(['10', '12', '13']);
    expect(a?.source).toEqual({ topic: 'telemetry.clean', partition: 0 });
  });

  it('spans the earliest to the latest event time, whatever the offset order', () => {
    const [bucket] = bucketsOf([record('A', 5, 1), record('A', 2, 2), record('A', 9, 3)]);
    expect(bucket?.start).toEqual(new Date(T0 + 2_000));
    expect(bucket?.end).toEqual(new Date(T0 + 9_000));
  });

  it('gives the same ids for the same records, and other ids for other flush boundaries', () => {
    const records = [record('A', 1, 10), record('A', 2, 11), record('A', 3, 12)];
    expect(bucketsOf(records).map((b) => b._id)).toEqual(
      bucketsOf(records.map((r) => ({ ...r }))).map((b) => b._id),
    );
    expect(bucketsOf(records).map((b) => b._id)).toEqual([
      bucketId('telemetry.clean', 0, '10', 3, 'A'),
    ]);
    const cutEarlier = [...bucketsOf(records.slice(0, 2)), ...bucketsOf(records.slice(2))];
    expect(cutEarlier.map((b) => b._id)).toEqual([
      'telemetry.clean/0/10/2/A',
      'telemetry.clean/0/12/1/A',
    ]);
  });

  it('keeps partitions apart and splits a vehicle past the bucket size', () => {
    const records = [
      record('A', 1, 1, 0),
      record('A', 2, 1, 1),
      ...[3, 4, 5].map((s) => record('A', s, s, 0)),
    ];
    const buckets = bucketsOf(records, 3);
    expect(buckets.map((b) => [b.source.partition, b.columns.offset])).toEqual([
      [0, ['1', '3', '4']],
      [0, ['5']],
      [1, ['1']],
    ]);
  });

  it('gives the readings back as they were added', () => {
    const records = [record('V/1', 1, 7, 2), record('V/1', 2, 8, 2)];
    const [bucket] = bucketsOf(records);
    expect(bucket?._id).toBe('telemetry.clean/2/7/2/V/1');
    expect(bucket && readingsOf(bucket)).toEqual(
      records.map((r) => ({
        ...r.value,
        source: { topic: r.topic, partition: r.partition, offset: r.offset },
      })),
    );
  });
});
