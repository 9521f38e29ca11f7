// Live runs: holds the simulation back so simulated time advances `speedup` times wall time.
import { setTimeout as delay } from 'node:timers/promises';
import type { Pacer } from './simulation.ts';

export class WallClockPacer implements Pacer {
  readonly speedup: number;
  private readonly simulatedStart: number;
  private readonly wallStart: number;
  private readonly clock: () => number;

  constructor(simulatedStart: number, speedup: number, clock: () => number = Date.now) {
    if (!(speedup > 0)) throw new RangeError(`speedup must be positive, got ${speedup}`);
    this.simulatedStart = simulatedStart;
    this.speedup = speedup;
    this.clock = clock;
    this.wallStart = clock();
  }

  /** Wall time at which `simulatedTime` is due. */
  wallTimeOf(simulatedTime: number): number {
    return this.wallStart + (simulatedTime - this.simulatedStart) / this.speedup;
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
