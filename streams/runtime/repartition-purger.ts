// Deletes consumed repartition records, as Kafka Streams does every repartition.purge.interval.ms:
// repartition topics keep records whatever their timestamps (a replay's event times would
// otherwise be deleted before they are read), so without this they only grow. Each round
// deletes below the offsets the group committed since the last round; a failed round is logged
// and counted, and its offsets stay for the next.
import type { Counter } from 'prom-client';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { StreamsKafkaClient, TopicPartitionOffset } from './kafka-port.ts';

export interface RepartitionPurgerOptions {
  client: Pick<StreamsKafkaClient, 'admin'>;
  /** The application's repartition topics; offsets of other topics are ignored. */
  topics: ReadonlySet<string>;
  /** 0 = never. */
  intervalMs: number;
  application: string;
  /** `continuum_repartition_purges_total{application, outcome}`. */
  purges: Counter;
  log: Logger;
}

export class RepartitionPurger {
  private readonly options: RepartitionPurgerOptions;
  /** Per `topic:partition`, the offset committed since the last round. */
  private readonly purgeable = new Map<string, TopicPartitionOffset>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: RepartitionPurgerOptions) {
    this.options = options;
  }

  /** Starts the rounds (none when there is no repartition topic or the interval is 0). */
  start(): void {
    if (this.options.topics.size === 0 || this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.purge(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Input offsets a commit went through with: the repartition ones become purgeable. */
  committed(offsets: Iterable<TopicPartitionOffset>): void {
    for (const o of offsets)
      if (this.options.topics.has(o.topic)) this.purgeable.set(`${o.topic}:${o.partition}`, o);
  }

  /** One round, unless one is running (then that one). */
  purge(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async round(): Promise<void> {
    const offsets = [...this.purgeable.values()];
    if (offsets.length === 0 || this.stopped) return;
    this.purgeable.clear();
    const { application, purges, log } = this.options;
    try {
      const admin = await this.options.client.admin();
      try {
        await admin.deleteRecordsBefore(offsets);
      } finally {
        await admin.close();
      }
      purges.inc({ application, outcome: 'purged' });
      log.debug(
        { offsets: offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`) },
        'repartition records purged',
      );
    } catch (err) {
      purges.inc({ application, outcome: 'failed' });
      // Offsets committed meanwhile are newer: they win.
      for (const o of offsets) {
        const key = `${o.topic}:${o.partition}`;
        if (!this.purgeable.has(key)) this.purgeable.set(key, o);
      }
      log.warn({ err: errorMessage(err) }, 'repartition purge failed; retried next round');
    }
  }
}
