// Runs a topology on Kafka: one consumer group per application id, one task per input
// partition, stores restored from their changelogs before a task processes anything.
// exactly-once: per task a transactional producer (transactional id `<app-id>-<partition>`,
// since kafkajs lacks KIP-447 group fencing) writes outputs, changelogs and input offsets in
// one transaction per fetched batch; a zombie holding the same partition is fenced by it.
// at-least-once: an idempotent producer writes, then the consumer commits offsets.
import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { restoreTaskStores } from './changelog-restore.ts';
import { ensureTopologyTopics } from './internal-topics.ts';
import { StreamTask, TaskFailedError, type TaskOutput } from './stream-task.ts';
import { StreamsMetrics } from './streams-metrics.ts';
import type { Topology } from './topology.ts';

export type ProcessingGuarantee = 'exactly-once' | 'at-least-once';

export interface StreamsApplicationOptions {
  topology: Topology;
  kafka: Kafka;
  log: Logger;
  guarantee: ProcessingGuarantee;
  /**
   * Upper bound of one produce request. kafkajs packs one send's records for a partition into a
   * single record batch, so a large flush must be chunked below the broker's message size.
   */
  maxRequestBytes?: number;
  metricsRegistry?: Registry;
  /**
   * How long the group waits for a silent member before moving its partitions: after a crash
   * this is how long its partitions stand still (Kafka's minimum is 6 s).
   */
  sessionTimeoutMs?: number;
  /** Called when the application stops on an error it cannot get past (a processor's 'fail'). */
  onFatal?: (error: Error) => void;
}

interface TaskHandle {
  task: StreamTask;
  producer: Producer | undefined;
  forwardedSeen: Record<string, number>;
  deadLetteredSeen: number;
}

const DEFAULT_MAX_REQUEST_BYTES = 512 * 1024;

export class StreamsApplication {
  readonly topology: Topology;
  readonly guarantee: ProcessingGuarantee;
  private readonly kafka: Kafka;
  private readonly log: Logger;
  private readonly consumer: Consumer;
  private readonly tasks = new Map<number, Promise<TaskHandle>>();
  private sharedProducer: Producer | undefined;
  private readonly metrics: StreamsMetrics;
  private readonly maxRequestBytes: number;
  private readonly onFatal: (error: Error) => void;
  private fatal: Error | undefined;
  private stopped = false;

  constructor(options: StreamsApplicationOptions) {
    this.topology = options.topology;
    this.guarantee = options.guarantee;
    this.kafka = options.kafka;
    this.log = options.log.child({
      component: 'streams',
      applicationId: options.topology.applicationId,
      guarantee: options.guarantee,
    });
    this.metrics = new StreamsMetrics(options.metricsRegistry);
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.onFatal = options.onFatal ?? (() => undefined);
    this.consumer = this.kafka.consumer({
      groupId: this.topology.applicationId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 10_000) / 5)),
      // A processor's 'fail' must stop us, not loop: everything else (outages, fencing) restarts.
      retry: {
        retries: 10,
        restartOnFailure: (error) => Promise.resolve(!(error instanceof TaskFailedError)),
      },
    });
  }

  /** The error the application stopped on, if any. */
  get error(): Error | undefined {
    return this.fatal;
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { partitions, created } = await ensureTopologyTopics(admin, this.topology);
      if (created.length > 0) this.log.info({ created, partitions }, 'created internal topics');
    } finally {
      await admin.disconnect();
    }
    if (this.guarantee === 'at-least-once') {
      this.sharedProducer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await this.sharedProducer.connect();
    }
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = new Set(Object.values(payload.memberAssignment).flat());
      this.log.info({ partitions: [...assigned].sort((a, b) => a - b) }, 'partitions assigned');
      void this.closeTasksExcept(assigned);
      // Create tasks now, not on their first batch: initializing a task's transactional producer
      // fences a dead instance and aborts its open transaction, which otherwise holds back
      // read_committed readers of the partitions it wrote (repartitions, outputs) until it times out.
      for (const partition of assigned) {
        this.taskFor(partition).catch((err: unknown) =>
          this.log.warn(
            { partition, err: errorMessage(err) },
            'task creation failed; retried on its next batch',
          ),
        );
      }
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) {
        this.log.warn(
          { err: payload.error.message },
          'consumer crashed; restarting from committed offsets',
        );
        return;
      }
      this.fatal = payload.error;
      this.log.error({ err: payload.error.message }, 'streams application stopped');
      this.onFatal(payload.error);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topology.inputTopics(), fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.processBatch(payload),
    });
    this.log.info({ inputs: this.topology.inputTopics() }, 'streams application running');
  }

  private taskFor(partition: number): Promise<TaskHandle> {
    let handle = this.tasks.get(partition);
    if (!handle) {
      handle = this.createTask(partition);
      this.tasks.set(partition, handle);
      handle.catch(() => this.tasks.delete(partition));
    }
    return handle;
  }

  private async createTask(partition: number): Promise<TaskHandle> {
    const task = new StreamTask(this.topology, partition);
    const stop = this.metrics.restoreSeconds.startTimer({
      application: this.topology.applicationId,
    });
    await restoreTaskStores(
      this.kafka,
      this.topology,
      partition,
      (name) => task.store(name),
      this.log,
    );
    stop();
    let producer: Producer | undefined;
    if (this.guarantee === 'exactly-once') {
      producer = this.kafka.producer({
        transactionalId: `${this.topology.applicationId}-${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
    }
    this.log.info({ partition }, 'task ready');
    return { task, producer, forwardedSeen: {}, deadLetteredSeen: 0 };
  }

  private async closeTasksExcept(assigned: ReadonlySet<number>): Promise<void> {
    for (const [partition, handle] of [...this.tasks]) {
      if (assigned.has(partition)) continue;
      this.tasks.delete(partition);
      const { task, producer } = await handle.catch(() => ({
        task: undefined,
        producer: undefined,
      }));
      task?.close();
      await producer?.disconnect().catch(() => undefined);
      this.log.info({ partition }, 'task closed (partition moved to another instance)');
    }
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || this.stopped || !payload.isRunning() || payload.isStale())
      return;
    const application = this.topology.applicationId;
    const handle = await this.taskFor(batch.partition);
    const { task } = handle;
    const stopProcessing = this.metrics.processingSeconds.startTimer({ application });
    const transaction = handle.producer ? await handle.producer.transaction() : undefined;
    try {
      for (const message of batch.messages) {
        await task.process(
          { topic: batch.topic, partition: batch.partition, offset: message.offset },
          {
            key: message.key,
            value: message.value,
            timestamp: Number(message.timestamp),
            headers: message.headers,
          },
        );
      }
      stopProcessing();
      const outputs = [...(await task.drainOutputs()), ...(await task.commitStores())];
      const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
      const stopCommit = this.metrics.commitSeconds.startTimer({
        application,
        guarantee: this.guarantee,
      });
      if (transaction) {
        await this.send(outputs, (record) => transaction.send(record));
        await transaction.sendOffsets({
          consumerGroupId: application,
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: nextOffset }],
            },
          ],
        });
        await transaction.commit();
      } else {
        const producer = this.sharedProducer;
        if (!producer) throw new Error('at-least-once producer not started');
        await this.send(outputs, (record) => producer.send(record));
        await this.consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: nextOffset },
        ]);
      }
      stopCommit();
      payload.resolveOffset(batch.lastOffset());
      this.record(handle, outputs);
      await payload.heartbeat();
    } catch (err) {
      this.metrics.aborts.inc({ application });
      if (transaction?.isActive())
        await transaction
          .abort()
          .catch((abortErr: unknown) =>
            this.log.warn({ err: errorMessage(abortErr) }, 'abort failed'),
          );
      task.abort();
      this.log.warn(
        { err: errorMessage(err), partition: batch.partition, topic: batch.topic },
        'batch not committed; its records will be processed again',
      );
      throw err;
    }
  }

  /** Sends outputs in order, per topic, in requests below maxRequestBytes. */
  private async send(
    outputs: readonly TaskOutput[],
    send: (record: { topic: string; messages: Message[]; acks: -1 }) => Promise<unknown>,
  ): Promise<void> {
    let topic: string | undefined;
    let chunk: Message[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (topic !== undefined && chunk.length > 0) await send({ topic, messages: chunk, acks: -1 });
      chunk = [];
      bytes = 0;
    };
    for (const output of outputs) {
      const size = recordSize(output);
      if (output.topic !== topic || bytes + size > this.maxRequestBytes) {
        await flush();
        topic = output.topic;
      }
      chunk.push({
        key: output.key,
        value: output.value,
        partition: output.partition,
        timestamp: String(output.timestamp),
        headers: output.headers,
      });
      bytes += size;
    }
    await flush();
  }

  private record(handle: TaskHandle, outputs: readonly TaskOutput[]): void {
    const application = this.topology.applicationId;
    const { counters } = handle.task;
    for (const [processor, count] of Object.entries(counters.forwarded)) {
      const delta = count - (handle.forwardedSeen[processor] ?? 0);
      if (delta > 0) this.metrics.recordsForwarded.inc({ application, processor }, delta);
      handle.forwardedSeen[processor] = count;
    }
    const dead = counters.deadLettered - handle.deadLetteredSeen;
    if (dead > 0) this.metrics.deadLettered.inc({ processor: application }, dead);
    handle.deadLetteredSeen = counters.deadLettered;
    const now = Date.now();
    const sinkTopics = new Set(
      this.topology
        .sinks()
        .filter((s) => !s.internal)
        .map((s) => s.topic),
    );
    for (const output of outputs) {
      if (sinkTopics.has(output.topic))
        this.metrics.freshnessSeconds.observe(
          { application, topic: output.topic },
          Math.max(0, now - output.timestamp) / 1000,
        );
    }
    this.metrics.recordsProcessed.inc({ application }, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
    for (const [partition, handle] of [...this.tasks]) {
      this.tasks.delete(partition);
      const resolved = await handle.catch(() => undefined);
      resolved?.task.close();
      await resolved?.producer?.disconnect().catch(() => undefined);
    }
    await this.sharedProducer?.disconnect();
    this.log.info('streams application stopped');
  }
}

/** Bytes a record takes in a produce request: key, value, headers and per-record overhead. */
function recordSize(output: TaskOutput): number {
  let headers = 0;
  for (const [name, value] of Object.entries(output.headers ?? {})) {
    headers +=
      name.length +
      (value === undefined
        ? 0
        : Array.isArray(value)
          ? value.reduce((n, v) => n + String(v).length, 0)
          : String(value).length) +
      8;
  }
  return (output.key?.length ?? 0) + (output.value?.length ?? 0) + headers + 64;
}
