// Consumer lag of the groups that produce what the API serves — the stream applications and
// the state sinks — measured in the background every few seconds, so a lookup reads a cached
// figure instead of making four admin requests.
import type { Admin } from 'kafkajs';
import { measureGroupsLag } from '../../core/consumer-lag.ts';
import type { PartitionTailReader } from '../../core/partition-tails.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { GroupLag, StateLag } from '../ports.ts';

export interface LagMonitorOptions {
  /** Group id → what it does (shown beside the lag). */
  groups: ReadonlyMap<string, string>;
  refreshMs: number;
  /** Reads what follows committed offsets, so a caught-up transactional partition shows 0. */
  tails?: PartitionTailReader;
}

export class StateLagMonitor implements StateLag {
  private snapshot: { measuredAt: number | null; groups: GroupLag[] } = {
    measuredAt: null,
    groups: [],
  };
  private timer: NodeJS.Timeout | undefined;
  private readonly admin: Admin;
  private readonly options: LagMonitorOptions;
  private readonly log: Logger;

  constructor(admin: Admin, options: LagMonitorOptions, log: Logger) {
    this.admin = admin;
    this.options = options;
    this.log = log.child({ component: 'api.lag' });
  }

  current(): { measuredAt: number | null; groups: GroupLag[] } {
    return this.snapshot;
  }

  async refresh(): Promise<void> {
    const rows = await measureGroupsLag(
      this.admin,
      [...this.options.groups.keys()],
      this.options.tails,
    );
    const totals = new Map<string, number>();
    for (const r of rows) totals.set(r.group, (totals.get(r.group) ?? 0) + r.lag);
    this.snapshot = {
      measuredAt: Date.now(),
      groups: [...this.options.groups].map(([group, role]) => ({
        group,
        role,
        lag: totals.get(group) ?? 0,
      })),
    };
  }

  start(): void {
    const tick = (): void => {
      this.refresh()
        .catch((err: unknown) =>
          this.log.warn({ err: errorMessage(err) }, 'consumer lag not measured'),
        )
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.refreshMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
