// deliveries.completed into the trainer: a kafkajs consumer group (read_committed: the join
// writes in transactions) whose committed offsets are where the training window starts, per
// partition (TrainingWindow.startOffsets). So after a restart, a rebalance, or a lost membership
// (a session that timed out), the group resumes from the oldest record the window still needs
// and the window is rebuilt from the topic itself; records read twice count once. Each group
// event is logged and counted; a crash kafkajs will not restart is restarted here with backoff.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Backoff } from '../core/backoff.ts';
import { disconnectForGood } from '../core/consumer-stop.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { DeliveryExample } from '../schemas/types.ts';
import type { EtaTrainer } from './eta-trainer.ts';
import type { TrainerMetrics } from './trainer-metrics.ts';
import type { TrainingWindow } from './training-window.ts';
import { activeStandbyAssigner } from './active-standby-assigner.ts';

export interface DeliveryExamplesConsumerOptions {
  topic: string;
  groupId: string;
  /** Wait before restarting a consumer that crashed for good (doubles up to a minute). */
  restartDelayMs: number;
}

export class DeliveryExamplesConsumer {
  private readonly kafka: Kafka;
  private readonly registry: SchemaRegistry;
  private readonly trainer: EtaTrainer;
  private readonly window: TrainingWindow;
  private readonly metrics: TrainerMetrics;
  private readonly options: DeliveryExamplesConsumerOptions;
  private readonly log: Logger;
  private consumer: Consumer | undefined;
  /** Per assigned partition: records behind the end as of the last batch. */
  private readonly lag = new Map<number, number>();
  private committed = new Map<number, number>();
  private stopped = false;
  private readonly restartBackoff: Backoff;
  private restartTimer: NodeJS.Timeout | undefined;
  /** In the group and reading (false from a crash until the consumer joins again). */
  private consuming = false;
  /** Kept across consumer restarts: this instance stays the oldest member, the active one. */
  private readonly startedAt = Date.now();

  constructor(args: {
    kafka: Kafka;
    registry: SchemaRegistry;
    trainer: EtaTrainer;
    window: TrainingWindow;
    metrics: TrainerMetrics;
    options: DeliveryExamplesConsumerOptions;
    log: Logger;
  }) {
    this.kafka = args.kafka;
    this.registry = args.registry;
    this.trainer = args.trainer;
    this.window = args.window;
    this.metrics = args.metrics;
    this.options = args.options;
    this.restartBackoff = new Backoff({ initialMs: args.options.restartDelayMs, maxMs: 60_000 });
    this.log = args.log.child({ component: 'ml.consumer', groupId: args.options.groupId });
  }

  /** Whether it reads deliveries.completed now (/ready): joined, not crashed or restarting. */
  get running(): boolean {
    return this.consuming && !this.stopped;
  }

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
      partitionAssigners: [activeStandbyAssigner(this.startedAt)],
      // Trainings run in a worker thread, so heartbeats flow; a dead trainer's standby takes
      // over after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
    });
    this.consumer = consumer;
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      const assigned = new Set(payload.memberAssignment[this.options.topic] ?? []);
      // Partitions now read by another member leave the window; the ones assigned resume
      // from their committed offsets, and what the window holds of them is recognized.
      this.window.retainPartitions(assigned);
      for (const p of [...this.lag.keys()]) if (!assigned.has(p)) this.lag.delete(p);
      this.committed = new Map([...this.committed].filter(([p]) => assigned.has(p)));
      this.consuming = true;
      this.metrics.groupEvents.inc({ event: 'join' });
      this.log.info(
        { partitions: [...assigned].sort((a, b) => a - b), leader: payload.isLeader },
        'joined the group',
      );
    });
    consumer.on(REBALANCING, () => {
      this.metrics.groupEvents.inc({ event: 'rebalancing' });
      this.log.info('group rebalancing');
    });
    consumer.on(STOP, () => this.metrics.groupEvents.inc({ event: 'stop' }));
    consumer.on(CRASH, ({ payload }) => {
      this.consuming = false;
      this.metrics.groupEvents.inc({ event: 'crash' });
      this.log.warn(
        { err: errorMessage(payload.error), restart: payload.restart },
        payload.restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed',
      );
      if (!payload.restart) this.scheduleRestart();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const delay = this.restartBackoff.next();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void (async () => {
        if (this.consumer) await disconnectForGood(this.consumer).catch(() => undefined);
        if (this.stopped) return;
        this.metrics.groupEvents.inc({ event: 'restart' });
        this.log.info({ attempt: this.restartBackoff.failures }, 'restarting the consumer');
        try {
          await this.start();
          this.restartBackoff.reset();
        } catch (err) {
          this.log.error({ err: errorMessage(err) }, 'consumer restart failed');
          this.scheduleRestart();
        }
      })();
    }, delay);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const offset = Number(message.offset);
      let example: DeliveryExample | undefined;
      try {
        example =
          message.value === null
            ? undefined
            : ((await this.registry.decode(message.value)) as DeliveryExample);
      } catch (err) {
        this.log.warn(
          { partition: batch.partition, offset, err: errorMessage(err) },
          'undecodable delivery example skipped',
        );
      }
      if (example) {
        this.trainer.onExample({ example, partition: batch.partition, offset });
      } else {
        this.metrics.examplesConsumed.inc({ outcome: 'undecodable' });
        // Not held by the window, but read: the start offset moves past it.
        this.window.markRead(batch.partition, offset);
      }
      payload.resolveOffset(message.offset);
    }
    this.lag.set(batch.partition, Number(batch.offsetLag()));
    await this.commitWindowStart(payload);
    await payload.heartbeat();
    if ([...this.lag.values()].every((l) => l === 0)) this.trainer.onCaughtUp();
  }

  /** Commits where the window starts, for the partitions whose start moved. */
  private async commitWindowStart(payload: EachBatchPayload): Promise<void> {
    const topic = this.options.topic;
    const moved = [...this.window.startOffsets()].filter(
      ([p, offset]) => this.lag.has(p) && this.committed.get(p) !== offset,
    );
    if (moved.length === 0 || !this.consumer || payload.isStale()) return;
    await this.consumer.commitOffsets(
      moved.map(([partition, offset]) => ({ topic, partition, offset: String(offset) })),
    );
    for (const [p, offset] of moved) this.committed.set(p, offset);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    if (this.consumer) await disconnectForGood(this.consumer);
  }
}
