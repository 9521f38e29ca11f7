// Consumer lag in time, from offsets alone (kafka-lag-exporter's method): each measurement
// records where every partition ended and when; a group's committed offset is then placed on
// that timeline by linear interpolation, giving the time its oldest uncommitted record was
// written, and now minus that is how long it has waited. No record is read, so measuring every
// few seconds costs only the offset requests the records lag needs anyway.
import type { PartitionLag } from './consumer-lag.ts';

interface EndSample {
  time: number;
  end: number;
}

export interface LagTimeEstimatorOptions {
  /** Samples kept per partition: the history's length is this times the measuring interval. */
  maxSamples: number;
}

export const LAG_TIME_ESTIMATOR_DEFAULTS: LagTimeEstimatorOptions = { maxSamples: 720 };

export class LagTimeEstimator {
  private readonly samples = new Map<string, EndSample[]>();
  private readonly options: LagTimeEstimatorOptions;

  constructor(options: Partial<LagTimeEstimatorOptions> = {}) {
    this.options = { ...LAG_TIME_ESTIMATOR_DEFAULTS, ...options };
  }

  /** Records each partition's end offset as seen at `now`. */
  observe(lags: readonly Pick<PartitionLag, 'topic' | 'partition' | 'end'>[], now: number): void {
    for (const { topic, partition, end } of lags) {
      const key = `${topic}\u0000${partition}`;
      let history = this.samples.get(key);
      if (!history) this.samples.set(key, (history = []));
      const last = history.at(-1);
      const beforeLast = history.at(-2);
      if (last && end < last.end) history.length = 0; // recreated topic: its past no longer applies
      // While the end stands still, only the first and the latest time it was seen matter.
      if (last && beforeLast && last.end === end && beforeLast.end === end) last.time = now;
      else history.push({ time: now, end });
      if (history.length > this.options.maxSamples) history.shift();
    }
  }

  /**
   * Seconds the group's oldest uncommitted record (at `committed`) has waited: 0 when caught up,
   * including when only a commit marker or aborted records follow the committed offset (a lag of
   * 0 by core/group-drained.ts; the marker's age would otherwise grow for as long as the topic
   * stays idle). A record older than the history is reported as old as the history (a lower bound).
   */
  secondsBehind(
    lag: Pick<PartitionLag, 'topic' | 'partition' | 'committed' | 'lag'>,
    now: number,
  ): number {
    if (lag.lag === 0) return 0;
    const history = this.samples.get(`${lag.topic}\u0000${lag.partition}`) ?? [];
    // The record at `committed` was written when the end passed it: went from ≤ committed to > committed.
    const target = lag.committed + 1;
    let written: number | undefined;
    for (let i = history.length - 1; i > 0; i--) {
      const after = history[i] as EndSample;
      const before = history[i - 1] as EndSample;
      if (before.end < target && target <= after.end) {
        const share = (target - before.end) / (after.end - before.end);
        written = before.time + share * (after.time - before.time);
        break;
      }
    }
    written ??= history[0]?.time ?? now;
    return Math.max(0, (now - written) / 1000);
  }

  /** Forgets partitions not seen in the last measurement (deleted topics, gone groups). */
  retain(lags: readonly Pick<PartitionLag, 'topic' | 'partition'>[]): void {
    const seen = new Set(lags.map((l) => `${l.topic}\u0000${l.partition}`));
    for (const key of this.samples.keys()) if (!seen.has(key)) this.samples.delete(key);
  }
}
