import type { PartitionLag } from './consumer-lag.ts';
import { ConsumerLagProbe } from './consumer-lag-probe.ts';

const lag = (group: string, partition: number): PartitionLag => ({
  group,
  topic: 'telemetry.raw',
  partition,
  committed: 10,
  end: 12,
  lag: 2,
});

describe('ConsumerLagProbe', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('is not ready before its first measurement, then ready with what it measured', async () => {
    const probe = new ConsumerLagProbe(
      () => Promise.resolve([lag('a', 0), lag('a', 1), lag('b', 0)]),
      {
        intervalMs: 10_000,
        staleAfterMs: 30_000,
        clock,
      },
    );
    expect(probe.readiness()).toEqual({
      ready: false,
      detail: { lastMeasuredAt: null, waitingFor: 'first measurement' },
    });
    await probe.probe();
    expect(probe.readiness()).toEqual({
      ready: true,
      detail: { lastMeasuredAt: new Date(now).toISOString(), groups: 2, partitions: 3 },
    });
  });

  it('reports an outage with its error and since when, and recovers with the next measurement', async () => {
    let fail = false;
    const probe = new ConsumerLagProbe(
      () =>
        fail
          ? Promise.reject(new Error('Connection error: ECONNREFUSED'))
          : Promise.resolve([lag('a', 0)]),
      { intervalMs: 10_000, staleAfterMs: 30_000, clock },
    );
    await probe.probe();
    const firstFailure = (now += 5_000);
    fail = true;
    await probe.probe();
    now += 10_000;
    await probe.probe();
    expect(probe.readiness()).toMatchObject({
      ready: false,
      detail: {
        error: 'Connection error: ECONNREFUSED',
        failingSince: new Date(firstFailure).toISOString(),
      },
    });
    fail = false;
    await probe.probe();
    expect(probe.readiness()).toMatchObject({ ready: true, detail: { partitions: 1 } });
    expect(probe.readiness().detail).not.toHaveProperty('error');
  });

  it('is not ready once its last measurement is stale (one that never returns)', async () => {
    let calls = 0;
    const probe = new ConsumerLagProbe(
      () => {
        calls += 1;
        return calls === 1
          ? Promise.resolve([lag('a', 0)])
          : new Promise<PartitionLag[]>(() => undefined);
      },
      { intervalMs: 10_000, staleAfterMs: 30_000, clock },
    );
    await probe.probe();
    void probe.probe();
    void probe.probe(); // still running: not started twice
    expect(calls).toBe(2);
    now += 30_001;
    expect(probe.readiness()).toMatchObject({
      ready: false,
      detail: { waitingFor: 'a measurement (the last one is stale)' },
    });
  });
});
