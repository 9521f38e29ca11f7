// State changes for server-sent events: one consumer per API process follows shipment.state
// from its end (its own consumer group, so it never takes partitions from the sinks, and
// committed offsets let it continue where it was after a crash or rebalance) and keeps the
// latest records of each partition in memory. A subscriber that resumes from an older position
// is first served from Kafka (a bounded range read), then from memory, then live; every
// subscriber has a bounded queue, and one that falls too far behind is ended ('overflow') so
// it reconnects with Last-Event-ID instead of growing the heap. Records are decoded only for
// subscribers: with none attached, the memory keeps them as bytes, decoded when one resumes
// from them (an API nobody watches does not decode every state change of the pipeline).
import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { Backoff } from '../../core/backoff.ts';
import { disconnectForGood } from '../../core/consumer-stop.ts';
import { errorMessage } from '../../core/errors.ts';
import { alterGroupOffsets } from '../../core/group-offsets.ts';
import type { KafkaClientConfig } from '../../core/kafka-client.ts';
import type { Logger } from '../../core/logger.ts';
import { readOffsetRanges } from '../../core/read-offset-ranges.ts';
import type { UnifiedShipmentState } from '../../schemas/types.ts';
import type { FeedPosition, StateChange, StateChangeFeed, StateSubscription } from '../ports.ts';

export interface KafkaStateFeedOptions {
  topic: string;
  /** Prefix of the live consumer's group and of catch-up readers' groups. */
  groupPrefix: string;
  /** Records kept in memory per partition for subscribers that resume. */
  bufferPerPartition: number;
  /** Changes a subscriber may have waiting before it is ended. */
  subscriberQueue: number;
  /** The live consumer's group session (kafkajs's default, 30 s, when absent). */
  sessionTimeoutMs?: number;
}

export const KAFKA_STATE_FEED_DEFAULTS = { bufferPerPartition: 2_000, subscriberQueue: 10_000 };

type EndReason = NonNullable<StateSubscription['endReason']>;

class Subscriber implements StateSubscription {
  readonly start: FeedPosition;
  private readonly shipmentId: string | undefined;
  private readonly limit: number;
  private readonly queue: StateChange[] = [];
  /** Per partition, the last offset queued: nothing at or below it is queued again. */
  private readonly lastQueued: Map<number, number>;
  private waiting: (() => void) | undefined;
  private ended: EndReason | undefined;
  /** While catching up, live changes wait here (offer order must follow offsets). */
  private held: StateChange[] | undefined = [];
  readonly abort = new AbortController();
  private readonly onEnd: (s: Subscriber) => void;

  constructor(
    start: Map<number, number>,
    shipmentId: string | undefined,
    limit: number,
    onEnd: (s: Subscriber) => void,
  ) {
    this.start = start;
    this.lastQueued = new Map(start);
    this.shipmentId = shipmentId;
    this.limit = limit;
    this.onEnd = onEnd;
  }

  get endReason(): EndReason | undefined {
    return this.ended;
  }

  /** A live change: held while catching up, queued afterwards. */
  live(change: StateChange): void {
    if (this.held) this.held.push(change);
    else this.offer(change);
  }

  offer(change: StateChange): void {
    if (this.ended) return;
    if (change.offset <= (this.lastQueued.get(change.partition) ?? -1)) return;
    this.lastQueued.set(change.partition, change.offset);
    if (this.shipmentId !== undefined && change.state.shipmentId !== this.shipmentId) return;
    if (this.queue.length >= this.limit) {
      this.end('overflow');
      return;
    }
    this.queue.push(change);
    this.wake();
  }

  caughtUp(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const change of held) this.offer(change);
  }

  next(): Promise<StateChange | null> {
    const change = this.queue.shift();
    if (change) return Promise.resolve(change);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = () => {
        this.waiting = undefined;
        resolve(this.queue.shift() ?? null);
      };
    });
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = reason;
    // When the feed stops, what is queued is still delivered; after a close or an overflow
    // nothing more is (an overflowed client resumes from the last id it got).
    if (reason === 'closed' || reason === 'overflow') this.queue.length = 0;
    this.abort.abort();
    this.onEnd(this);
    this.wake();
  }

  close(): void {
    this.end('closed');
  }

  private wake(): void {
    this.waiting?.();
  }
}

/** A record kept in memory: its bytes, and its change once decoded (null: undecodable). */
interface BufferedRecord {
  partition: number;
  offset: number;
  value: Buffer;
  change?: StateChange | null;
}

export class KafkaStateFeed implements StateChangeFeed {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly config: KafkaClientConfig;
  private readonly decode: (value: Buffer) => Promise<UnifiedShipmentState>;
  private readonly options: KafkaStateFeedOptions;
  private readonly log: Logger;
  private readonly buffers = new Map<number, BufferedRecord[]>();
  /** Per partition, the offset the live consumer reads next. */
  private readonly liveNext = new Map<number, number>();
  private readonly subscribers = new Set<Subscriber>();
  private consumer: Consumer | undefined;
  private groupId: string | undefined;
  private stopped = false;
  private readonly restartBackoff = new Backoff({ initialMs: 1_000, maxMs: 30_000 });
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(deps: {
    kafka: Kafka;
    admin: Admin;
    config: KafkaClientConfig;
    decode: (value: Buffer) => Promise<UnifiedShipmentState>;
    options: KafkaStateFeedOptions;
    log: Logger;
  }) {
    this.kafka = deps.kafka;
    this.admin = deps.admin;
    this.config = deps.config;
    this.decode = deps.decode;
    this.options = deps.options;
    this.log = deps.log.child({ component: 'api.state-feed', topic: deps.options.topic });
  }

  async start(): Promise<void> {
    const { topic } = this.options;
    const ends = await this.admin.fetchTopicOffsets(topic);
    for (const e of ends) {
      this.liveNext.set(e.partition, Number(e.high));
      this.buffers.set(e.partition, []);
    }
    this.groupId = `${this.options.groupPrefix}-${randomBytes(6).toString('hex')}`;
    await this.follow();
    this.log.info({ groupId: this.groupId }, 'following state changes');
  }

  /**
   * Consumes from where the feed is (the ends read at start, then the next offset of each
   * partition): the group's offsets are set there first, so a restart neither skips nor, past
   * what publish() already drops, repeats a change.
   */
  private async follow(): Promise<void> {
    const { topic } = this.options;
    const groupId = this.groupId as string;
    await alterGroupOffsets(
      this.config,
      groupId,
      [...this.liveNext].map(([partition, offset]) => ({ topic, partition, offset })),
    );
    const session = this.options.sessionTimeoutMs;
    const consumer = this.kafka.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      ...(session === undefined
        ? {}
        : { sessionTimeout: session, heartbeatInterval: Math.floor(session / 5) }),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // Also moves past transaction markers, which carry no change.
      const next = Number(payload.lastOffset) + 1;
      if (next > (this.liveNext.get(payload.partition) ?? 0))
        this.liveNext.set(payload.partition, next);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.log.warn(
        { err: payload.error.message, restart: payload.restart },
        payload.restart ? 'feed consumer crashed; kafkajs restarts it' : 'feed consumer crashed',
      );
      // kafkajs gives up on errors it calls non-retriable (a membership the coordinator lost):
      // subscribers stay attached and the feed follows again, from where it was.
      if (!payload.restart && consumer === this.consumer) this.scheduleRestart();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const records = batch.messages.flatMap((m) =>
          m.value ? [{ partition: batch.partition, offset: Number(m.offset), value: m.value }] : [],
        );
        // Nobody to send them to: kept as bytes (a subscriber attaching later decodes them).
        if (this.subscribers.size > 0) for (const record of records) await this.changeOf(record);
        for (const record of records) this.publish(record);
      },
    });
  }

  /** Restarts after a crash kafkajs does not restart from, with backoff (1 s doubling to 30 s). */
  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const delay = this.restartBackoff.next();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void (async () => {
        if (this.consumer) await disconnectForGood(this.consumer).catch(() => undefined);
        if (this.stopped) return;
        try {
          await this.follow();
          this.restartBackoff.reset();
          this.log.info({ groupId: this.groupId }, 'feed consumer restarted');
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'feed consumer restart failed');
          this.scheduleRestart();
        }
      })();
    }, delay);
  }

  /** The record's change, decoded once and kept on it (undefined: undecodable, said once). */
  private async changeOf(record: BufferedRecord): Promise<StateChange | undefined> {
    if (record.change === undefined) {
      const { partition, offset } = record;
      try {
        record.change = { partition, offset, state: await this.decode(record.value) };
      } catch (err) {
        record.change = null;
        this.log.warn({ partition, offset, err: errorMessage(err) }, 'undecodable state');
      }
    }
    return record.change ?? undefined;
  }

  private async decodeAll(partition: number, messages: KafkaMessage[]): Promise<StateChange[]> {
    const changes: StateChange[] = [];
    for (const m of messages) {
      if (!m.value) continue;
      const change = await this.changeOf({ partition, offset: Number(m.offset), value: m.value });
      if (change) changes.push(change);
    }
    return changes;
  }

  /** Keeps the record in memory and sends its change (decoded by now, if anyone listens) live. */
  private publish(record: BufferedRecord): void {
    const buffer = this.buffers.get(record.partition) ?? [];
    // A re-fetch after a rebalance repeats records already published.
    const last = buffer.at(-1);
    if (last && record.offset <= last.offset) return;
    const next = this.liveNext.get(record.partition) ?? 0;
    buffer.push(record);
    if (buffer.length > this.options.bufferPerPartition) buffer.shift();
    this.buffers.set(record.partition, buffer);
    if (record.offset + 1 > next) this.liveNext.set(record.partition, record.offset + 1);
    if (record.change) for (const s of this.subscribers) s.live(record.change);
  }

  subscribe(options: { shipmentId?: string; from?: FeedPosition }): Promise<StateSubscription> {
    const start = new Map<number, number>();
    for (const [p, next] of this.liveNext) {
      const asked = options.from?.get(p);
      start.set(p, asked === undefined ? next - 1 : Math.min(Math.max(asked, -1), next - 1));
    }
    const subscriber = new Subscriber(
      start,
      options.shipmentId,
      this.options.subscriberQueue,
      (s) => this.subscribers.delete(s),
    );
    // Attached and the memory copied in one synchronous step: nothing falls between them.
    this.subscribers.add(subscriber);
    const snapshot = new Map<number, BufferedRecord[]>(
      [...this.buffers].map(([p, b]) => [p, [...b]]),
    );
    const ranges = [...start].map(([partition, last]) => ({
      partition,
      from: last + 1,
      to: snapshot.get(partition)?.[0]?.offset ?? this.liveNext.get(partition) ?? last + 1,
    }));
    void this.catchUp(subscriber, ranges, snapshot);
    return Promise.resolve(subscriber);
  }

  private async catchUp(
    subscriber: Subscriber,
    ranges: { partition: number; from: number; to: number }[],
    snapshot: Map<number, BufferedRecord[]>,
  ): Promise<void> {
    try {
      if (ranges.some((r) => r.from < r.to))
        await readOffsetRanges(this.kafka, this.config, {
          topic: this.options.topic,
          ranges,
          groupPrefix: `${this.options.groupPrefix}-catchup`,
          signal: subscriber.abort.signal,
          onBatch: async (partition, messages) => {
            for (const change of await this.decodeAll(partition, messages))
              subscriber.offer(change);
          },
        });
      for (const records of snapshot.values())
        for (const record of records) {
          const change = await this.changeOf(record);
          if (change) subscriber.offer(change);
        }
      subscriber.caughtUp();
    } catch (err) {
      if (subscriber.endReason) return;
      this.log.warn({ err: errorMessage(err) }, 'catch-up of a subscriber failed');
      subscriber.end('feed-stopped');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    for (const s of [...this.subscribers]) s.end('feed-stopped');
    if (this.consumer) await disconnectForGood(this.consumer);
    if (this.groupId) await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
  }
}
