// Live runs: holds the simulation back so simulated time advances `speedup` times wall time
// while it is behind the wall clock, and never lets it run ahead: the stream processors
// dead-letter a record whose event time is further ahead of the wall clock than
// CONTINUUM_STREAMS_MAX_FUTURE_MS. So a live run starts in the past (liveSimulatedStart), runs
// at the speedup until it reaches the present, then in step with the wall clock.
import { setTimeout as delay } from 'node:timers/promises';
import type { Pacer } from './simulation.ts';

export class WallClockPacer implements Pacer {
  readonly speedup: number;
  readonly simulatedStart: number;
  /** Wall time the run started at. */
  readonly wallStart: number;
  private readonly clock: () => number;

  constructor(simulatedStart: number, speedup: number, clock: () => number = Date.now) {
    if (!(speedup > 0)) throw new RangeError(`speedup must be positive, got ${speedup}`);
    this.simulatedStart = simulatedStart;
    this.speedup = speedup;
    this.clock = clock;
    this.wallStart = clock();
  }

  /** Wall time at which `simulatedTime` is due: at the speedup, never before the wall clock shows it. */
  wallTimeOf(simulatedTime: number): number {
    return Math.max(
      this.wallStart + (simulatedTime - this.simulatedStart) / this.speedup,
      simulatedTime,
    );
  }

  /** Simulated time reached at `wallTime`: the inverse of wallTimeOf. */
  simulatedTimeAt(wallTime: number): number {
    const sped = this.simulatedStart + (wallTime - this.wallStart) * this.speedup;
    return Math.max(this.simulatedStart, Math.min(sped, wallTime));
  }

  /** Wall time at which simulated time reaches the wall clock and slows to 1×; never if undefined. */
  reachesWallClockAt(): number | undefined {
    if (this.simulatedStart >= this.wallStart) return this.simulatedStart;
    if (this.speedup <= 1) return undefined;
    // simulatedStart + (w − wallStart) × speedup = w
    return (this.speedup * this.wallStart - this.simulatedStart) / (this.speedup - 1);
  }

  async waitUntil(simulatedTime: number, signal?: AbortSignal): Promise<void> {
    const wait = this.wallTimeOf(simulatedTime) - this.clock();
    if (wait <= 0 || signal?.aborted) return;
    // Pacing, not synchronization: the point is to spend wall time at the target rate.
    await delay(wait, undefined, { signal }).catch((err: unknown) => {
      if (!signal?.aborted) throw err;
    });
  }
}

/**
 * How long a live run without a wall duration keeps its speedup before simulated time reaches
 * the present: long enough for any demo, short enough that its event times are days, not
 * months, old (60× for an hour starts 59 simulated hours back).
 */
export const LIVE_SPEEDUP_SPAN_MS = 3_600_000;

/**
 * Where a live run's simulated time starts by default: as far back as the speedup covers in the
 * run's wall duration (or LIVE_SPEEDUP_SPAN_MS), so the run keeps its rate for that long and
 * its simulated time reaches the present as it ends — never ahead of it. Whole seconds.
 */
export function liveSimulatedStart(options: {
  now: number;
  speedup: number;
  wallDurationMs?: number;
}): number {
  const span = options.wallDurationMs ?? LIVE_SPEEDUP_SPAN_MS;
  const lead = Math.max(0, span * (options.speedup - 1));
  return Math.floor((options.now - lead) / 1000) * 1000;
}
