import { Registry } from 'prom-client';
import { registerConsumerLagGauges, type PartitionLag } from './consumer-lag.ts';
import { LagTimeEstimator } from './lag-time-estimator.ts';

const row = (end: number, committed: number, partition = 0): PartitionLag => ({
  group: 'g',
  topic: 't',
  partition,
  committed,
  end,
  lag: end - committed,
});

describe('LagTimeEstimator', () => {
  it('places the committed offset on the timeline of end offsets, by linear interpolation', () => {
    const estimator = new LagTimeEstimator();
    estimator.observe([row(100, 0)], 10_000);
    estimator.observe([row(200, 0)], 20_000);
    estimator.observe([row(300, 0)], 30_000);
    // Offset 149 became readable when the end passed 150: halfway from 10 s to 20 s.
    expect(estimator.secondsBehind(row(300, 149), 40_000)).toBeCloseTo(25, 5);
    expect(estimator.secondsBehind(row(300, 299), 40_000)).toBeCloseTo(10, 5);
  });

  it('is 0 when only a commit marker is left to read, however long the topic stays idle', () => {
    const estimator = new LagTimeEstimator();
    estimator.observe([row(100, 0)], 10_000);
    estimator.observe([row(101, 0)], 11_000); // the last transaction's commit marker
    estimator.observe([row(101, 0)], 900_000);
    // Committed at the marker: raw lag 1, nothing to read (consumer-lag gives it lag 0).
    expect(estimator.secondsBehind({ ...row(101, 100), lag: 0 }, 900_000)).toBe(0);
    // Were the marker a record, it would have waited since it was written.
    expect(estimator.secondsBehind(row(101, 100), 900_000)).toBeCloseTo(889, 5);
  });

  it('is 0 when caught up, and the age of its history when the record is older than it', () => {
    const estimator = new LagTimeEstimator();
    estimator.observe([row(500, 0)], 5_000);
    estimator.observe([row(600, 0)], 15_000);
    expect(estimator.secondsBehind(row(600, 600), 20_000)).toBe(0);
    expect(estimator.secondsBehind(row(600, 10), 20_000)).toBe(15);
  });

  it('keeps the last time an unchanged end was seen, so a burst after a pause is not smeared over it', () => {
    const estimator = new LagTimeEstimator();
    estimator.observe([row(100, 0)], 0);
    estimator.observe([row(100, 0)], 50_000);
    estimator.observe([row(100, 0)], 90_000);
    estimator.observe([row(110, 0)], 100_000);
    // Offset 100 was written between 90 s (end still 100) and 100 s (end 110).
    expect(estimator.secondsBehind(row(110, 100), 100_000)).toBeCloseTo(9, 5);
  });

  it('bounds its history and forgets partitions that are gone', () => {
    const estimator = new LagTimeEstimator({ maxSamples: 2 });
    estimator.observe([row(10, 0)], 0);
    estimator.observe([row(20, 0)], 10_000);
    estimator.observe([row(30, 0)], 20_000);
    // The sample at 0 s was dropped: offset 5 is older than the history (10 s).
    expect(estimator.secondsBehind(row(30, 5), 20_000)).toBe(10);
    estimator.retain([]);
    expect(estimator.secondsBehind(row(30, 5), 20_000)).toBe(0);
  });
});

describe('registerConsumerLagGauges', () => {
  it('exports lag in records and in seconds from one measurement per scrape', async () => {
    const registry = new Registry();
    let now = 0;
    let measurements = 0;
    let end = 100;
    registerConsumerLagGauges(
      registry,
      () => {
        measurements += 1;
        return Promise.resolve([row(end, 40, 1)]);
      },
      new LagTimeEstimator(),
      () => now,
    );
    await registry.metrics();
    now = 10_000;
    end = 200;
    const text = await registry.metrics();
    expect(measurements).toBe(2);
    expect(text).toContain(
      'kafka_consumergroup_lag{consumergroup="g",topic="t",partition="1"} 160',
    );
    // Offset 40 was written before the first sample (0 s): at least 10 s ago.
    expect(text).toContain(
      'kafka_consumergroup_lag_seconds{consumergroup="g",topic="t",partition="1"} 10',
    );
  });
});
