// Kafka plumbing of the pipeline benchmark: the topics, groups and registry subjects a run
// creates (all removed afterwards), timed produce, "has every group drained its inputs" by
// polling committed offsets, a paced producer, a read_committed latency probe and an RSS sampler.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Admin, Consumer, Kafka, Message, Producer } from 'kafkajs';
import { ContinuumError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { dlqTopic } from '../core/topics.ts';
import { createTopicsWithLeaders } from '../core/create-topics.ts';
import { waitFor } from '../core/wait-for.ts';
import { internalTopicConfigs } from '../streams/runtime/internal-topics.ts';
import type { InternalTopic, Topology } from '../streams/runtime/topology.ts';
import type { BenchProgress } from './bench-progress.ts';
import { partitionLag } from '../core/group-drained.ts';
import { parseOffset, recordsDue } from './pipeline-stats.ts';

export class PipelineBenchError extends ContinuumError {
  override readonly code = 'PIPELINE_BENCH_FAILED';
}

/** Everything one benchmark run creates on the broker and in the registry, removed by `cleanup`. */
export class BenchScope {
  readonly runId = randomBytes(4).toString('hex');
  readonly admin: Admin;
  private readonly registryUrl: string;
  private readonly log: Logger;
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly subjects = new Set<string>();
  private readonly others: { what: string; remove: () => Promise<unknown> }[] = [];

  constructor(kafka: Kafka, registryUrl: string, log: Logger) {
    this.admin = kafka.admin();
    this.registryUrl = registryUrl;
    this.log = log;
  }

  topic(role: string): string {
    return `bench.${this.runId}.${role}`;
  }

  /** A name unique to this run (application id prefixes, transactional ids). */
  name(role: string): string {
    return `bench-${this.runId}-${role}`;
  }

  /** A consumer group, remembered for deletion. */
  group(role: string): string {
    const id = this.name(role);
    this.groups.add(id);
    return id;
  }

  /**
   * Creates the topics with the configs the streams runtime gives its internal topics (a plain
   * name: no time retention, as the runtime's repartitions) and returns once every partition
   * has a leader. No time retention: records whose timestamps are old (event times) must not be
   * deleted under a running benchmark; the topics are deleted at its end anyway.
   */
  async createTopics(
    topics: readonly (string | InternalTopic)[],
    partitions: number,
  ): Promise<void> {
    const specs = topics.map((t) => (typeof t === 'string' ? { topic: t, compacted: false } : t));
    const names = specs.map((t) => t.topic);
    for (const t of names) this.topics.add(t);
    await createTopicsWithLeaders(
      this.admin,
      specs.map((spec) => ({
        topic: spec.topic,
        numPartitions: partitions,
        // As the runtime would create them: it checks them at start and alters what differs.
        configEntries: Object.entries(internalTopicConfigs(spec)).map(([name, value]) => ({
          name,
          value,
        })),
      })),
    );
  }

  /**
   * Creates what a topology would create at start (changelogs, repartitions, DLQs) as the
   * runtime does, and remembers them and its group for deletion. Done before the clock starts:
   * topic creation is not what the benchmark measures, and kafkajs's own create-and-wait fails
   * now and then on this busy broker (see bench/README.md).
   */
  async prepare(topology: Topology, partitions: number): Promise<void> {
    this.groups.add(topology.applicationId);
    const existing = new Set(await this.admin.listTopics());
    const wanted = [
      ...topology.internalTopics(),
      ...topology.inputTopics().map((input) => ({ topic: dlqTopic(input), compacted: false })),
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) await this.createTopics(wanted, partitions);
  }

  subject(subject: string): void {
    this.subjects.add(subject);
  }

  /** Something else the run created (Redis keys, a PostgreSQL schema), removed by `cleanup`. */
  also(what: string, remove: () => Promise<unknown>): void {
    this.others.push({ what, remove });
  }

  async cleanup(): Promise<void> {
    const groups = [...this.groups];
    // One at a time: kafkajs fails the whole call when one group is missing (never joined).
    const existingGroups = new Set(
      (await this.admin.listGroups().catch(() => ({ groups: [] }))).groups.map((g) => g.groupId),
    );
    for (const groupId of groups.filter((g) => existingGroups.has(g))) {
      await this.admin
        .deleteGroups([groupId])
        .catch((err: unknown) =>
          this.log.warn({ err: errorMessage(err), groupId }, 'group cleanup failed'),
        );
    }
    const existing = new Set(await this.admin.listTopics().catch(() => [] as string[]));
    const topics = [...this.topics].filter((t) => existing.has(t));
    if (topics.length > 0)
      await this.admin
        .deleteTopics({ topics })
        .catch((err: unknown) =>
          this.log.warn({ err: errorMessage(err), topics }, 'topic cleanup failed'),
        );
    for (const subject of this.subjects) {
      // Soft delete first: the registry refuses a permanent delete of a live subject.
      for (const query of ['', '?permanent=true']) {
        await fetch(`${this.registryUrl}/subjects/${encodeURIComponent(subject)}${query}`, {
          method: 'DELETE',
        }).catch(() => undefined);
      }
    }
    for (const { what, remove } of this.others.reverse()) {
      await remove().catch((err: unknown) =>
        this.log.warn({ err: errorMessage(err), what }, 'cleanup failed'),
      );
    }
    this.log.info(
      {
        topics: topics.length,
        groups: groups.length,
        subjects: this.subjects.size,
        others: this.others.map((o) => o.what),
      },
      'benchmark topics, groups, subjects (and others) deleted',
    );
  }
}

/** How long committed offsets may stand still before a drain counts as stuck. */
export const DRAIN_STALL_MS = 90_000;

export interface OutboundRecord {
  topic: string;
  message: Message;
}

export const PRODUCE_BATCH = 1_000;

/** Sends the records in order, PRODUCE_BATCH per request (one topic each); returns the seconds taken. */
export async function produceAll(
  producer: Producer,
  records: readonly OutboundRecord[],
  progress: Pick<BenchProgress, 'update'>,
): Promise<number> {
  const started = performance.now();
  let i = 0;
  while (i < records.length) {
    const topic = records[i]?.topic ?? '';
    const messages: Message[] = [];
    while (i < records.length && messages.length < PRODUCE_BATCH && records[i]?.topic === topic) {
      const record = records[i];
      if (record) messages.push(record.message);
      i += 1;
    }
    await producer.send({ topic, acks: -1, messages });
    progress.update(i);
  }
  return (performance.now() - started) / 1000;
}

/** A group consuming a topic; `transactional` when only transactional producers write the topic. */
export interface DrainStage {
  groupId: string;
  topic: string;
  transactional: boolean;
}

/**
 * Waits until every stage's group has committed past the end of its topic. Stages are in levels:
 * a level is checked once every earlier level has drained, because the earlier stages write its
 * topics. Returns the wall time (Date.now()) at which the last level drained.
 *
 * Ends are read on every poll, after the committed offsets: kafkajs reads them read_committed
 * (the last stable offset), which reaches a transaction's records only once its markers are
 * written, a moment after the upstream group's offsets (in the same transaction) show. A level
 * counts as drained when two polls in a row find it so with the same ends; the time is the first's.
 * Fails when committed offsets stop moving for `stallMs`, and when one is past its partition's end.
 */
export async function waitForDrain(
  admin: Admin,
  levels: readonly (readonly DrainStage[])[],
  options: {
    timeoutMs: number;
    stallMs?: number;
    description: string;
    signal?: AbortSignal;
    progress?: BenchProgress;
  },
): Promise<number> {
  const stallMs = options.stallMs ?? DRAIN_STALL_MS;
  let drainedAt = 0;
  for (const [index, level] of levels.entries()) {
    const description = `${options.description} (level ${index + 1} of ${levels.length})`;
    const failed = new AbortController();
    let lastLag = Number.POSITIVE_INFINITY;
    let movedAt = Date.now();
    let candidate: { at: number; ends: string } | undefined;
    drainedAt = await waitFor(
      async () => {
        const committed = new Map<DrainStage, Map<number, bigint | undefined>>();
        for (const stage of level) {
          const offsets = await admin.fetchOffsets({
            groupId: stage.groupId,
            topics: [stage.topic],
          });
          committed.set(
            stage,
            new Map(
              (offsets[0]?.partitions ?? []).map((p) => [p.partition, parseOffset(p.offset)]),
            ),
          );
        }
        const polledAt = Date.now();
        const ends = new Map<string, { partition: number; end: bigint }[]>();
        for (const topic of new Set(level.map((s) => s.topic))) {
          const offsets = await admin.fetchTopicOffsets(topic);
          ends.set(
            topic,
            offsets.map((o) => ({ partition: o.partition, end: BigInt(o.high) })),
          );
        }
        let lag = 0;
        let total = 0;
        for (const stage of level) {
          for (const { partition, end } of ends.get(stage.topic) ?? []) {
            const at = committed.get(stage)?.get(partition);
            // Past the log end is never right: offsets were committed for records that do not exist.
            if (at !== undefined && at > end)
              failed.abort(
                new PipelineBenchError(
                  `${stage.groupId} committed offset ${at} on ${stage.topic}-${partition}, beyond its end ${end}`,
                  { context: { ...stage, partition, committed: String(at), end: String(end) } },
                ),
              );
            lag += partitionLag(end, at, { kind: stage.transactional ? 'transactional' : 'plain' });
            total += Number(end);
          }
        }
        if (index === 0) options.progress?.update(total - lag, `lag ${lag}`);
        if (lag !== lastLag) {
          lastLag = lag;
          movedAt = polledAt;
        } else if (lag > 0 && polledAt - movedAt > stallMs) {
          failed.abort(
            new PipelineBenchError(`${description}: no progress for ${stallMs} ms (lag ${lag})`, {
              context: { lag, stallMs, groups: level.map((s) => s.groupId) },
            }),
          );
        }
        const signature = JSON.stringify(
          [...ends].map(([t, e]) => [t, e.map((x) => String(x.end))]),
        );
        if (lag > 0) {
          candidate = undefined;
          return undefined;
        }
        if (candidate?.ends === signature) return candidate.at;
        candidate = { at: polledAt, ends: signature };
        return undefined;
      },
      {
        timeoutMs: options.timeoutMs,
        // A fixed, short interval: the poll's resolution is the measurement's.
        intervalMs: 200,
        maxIntervalMs: 200,
        description,
        signal: options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal,
      },
    );
  }
  return drainedAt;
}

/** Peak resident set size of this process, sampled while a row runs. */
export class RssSampler {
  /** RSS when sampling started: what the process held before the row. */
  readonly startBytes = process.memoryUsage.rss();
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 200) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/**
 * Sends `build(seq, now)` records at `ratePerSecond` for `seconds`, each stamped with the wall
 * clock when its request is built (record timestamp = event time = send time). A request that
 * takes longer than the tick makes the next one larger, so the average rate holds.
 */
export async function producePaced(
  producer: Producer,
  options: {
    topic: string;
    ratePerSecond: number;
    seconds: number;
    build: (seq: number, now: number) => Promise<Message>;
    progress?: BenchProgress;
    /** Fails the pacing (interrupted). */
    signal?: AbortSignal;
    /** Ends the pacing before `seconds`, as a normal end: a feed that runs until told to stop. */
    until?: AbortSignal;
  },
): Promise<{ sent: number; startedAt: number }> {
  const startedAt = Date.now();
  const endsAt = startedAt + options.seconds * 1000;
  let sent = 0;
  const tickMs = 5;
  for (;;) {
    options.signal?.throwIfAborted();
    const now = Date.now();
    if (now >= endsAt || options.until?.aborted === true) break;
    const owed = recordsDue(options.ratePerSecond, now - startedAt) - sent;
    if (owed > 0) {
      const messages: Message[] = [];
      for (let k = 0; k < owed; k++) messages.push(await options.build(sent + k, now));
      await producer.send({ topic: options.topic, acks: -1, messages });
      sent += owed;
      options.progress?.update((now - startedAt) / 1000, `${sent} sent`);
    } else {
      // Pacing is the point here, not synchronization: wait for the next records to fall due.
      await delay(tickMs);
    }
  }
  return { sent, startedAt };
}

/**
 * Where each stage's group stands on its topic, for a failure message: per partition, the
 * committed offset over the end ("p3 1200/1201").
 */
export async function describeStages(admin: Admin, stages: readonly DrainStage[]): Promise<string> {
  const lines: string[] = [];
  for (const stage of stages) {
    const [committed] = await admin.fetchOffsets({ groupId: stage.groupId, topics: [stage.topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
    const ends = await admin.fetchTopicOffsets(stage.topic);
    const partitions = ends
      .sort((a, b) => a.partition - b.partition)
      .map((e) => `p${e.partition} ${at.get(e.partition) ?? '-'}/${e.high}`);
    lines.push(`${stage.groupId} on ${stage.topic}: ${partitions.join(' ')}`);
  }
  return lines.join('; ');
}

/**
 * A read_committed consumer that notes, for every record whose timestamp falls in a window,
 * how long after that timestamp it became visible here.
 */
export class LatencyProbe {
  /**
   * Latency by `<partition>:<offset>`: a record the probe is handed twice (its own group
   * rebalancing) counts once, while a duplicate the pipeline wrote has an offset of its own.
   */
  private readonly measured = new Map<string, number>();
  /** Records seen with a timestamp at or after the mark of `countFrom`. */
  seen = 0;
  private readonly consumer: Consumer;
  private window: { from: number; to: number } = { from: Number.POSITIVE_INFINITY, to: 0 };
  private mark = Number.POSITIVE_INFINITY;
  private joined = false;

  constructor(kafka: Kafka, groupId: string) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
  }

  async start(topic: string): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await this.consumer.run({
      eachBatch: ({ batch }) => {
        const seenAt = Date.now();
        for (const message of batch.messages) {
          const timestamp = Number(message.timestamp);
          if (timestamp >= this.mark) this.seen += 1;
          if (timestamp >= this.window.from && timestamp < this.window.to)
            this.measured.set(`${batch.partition}:${message.offset}`, seenAt - timestamp);
        }
        return Promise.resolve();
      },
    });
    await waitFor(() => this.joined, {
      timeoutMs: 60_000,
      description: `the probe of ${topic} to join`,
    });
  }

  /** Records measured so far. */
  get count(): number {
    return this.measured.size;
  }

  latencies(): number[] {
    return [...this.measured.values()];
  }

  /** Counts records stamped `from` or later in `seen`, from zero. */
  countFrom(from: number): void {
    this.mark = from;
    this.seen = 0;
  }

  /** Records with timestamps in [from, to) count from now on. */
  measure(from: number, to: number): void {
    this.window = { from, to };
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }
}

/** Copies every record of `from` topics to `to` in one transaction per fetched batch. */
export class CopyHop {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly groupId: string;
  private readonly from: readonly string[];
  private readonly to: string;

  constructor(kafka: Kafka, groupId: string, from: readonly string[], to: string, log: Logger) {
    this.groupId = groupId;
    this.from = from;
    this.to = to;
    // The runtime's consumer settings, so the hops differ from it only in what they do per record.
    this.consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
    });
    // kafkajs's own log drops retried conditions as noise; a hop that stalls must say why.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) =>
      log.warn(
        { groupId, err: errorMessage(payload.error), restart: payload.restart },
        'kafkajs hop consumer crashed',
      ),
    );
    this.producer = kafka.producer({
      transactionalId: `${groupId}-tx`,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.from], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
        const transaction = await this.producer.transaction();
        try {
          for (const messages of chunkByBytes(batch.messages)) {
            await transaction.send({ topic: this.to, acks: -1, messages });
          }
          await transaction.sendOffsets({
            consumerGroupId: this.groupId,
            topics: [
              {
                topic: batch.topic,
                partitions: [
                  {
                    partition: batch.partition,
                    offset: (BigInt(batch.lastOffset()) + 1n).toString(),
                  },
                ],
              },
            ],
          });
          await transaction.commit();
        } catch (err) {
          if (transaction.isActive()) await transaction.abort().catch(() => undefined);
          throw err;
        }
        payload.resolveOffset(batch.lastOffset());
        await payload.heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}

/** The runtime's bound on one produce request. */
const MAX_REQUEST_BYTES = 512 * 1024;

function chunkByBytes(
  messages: readonly {
    key: Buffer | null;
    value: Buffer | null;
    timestamp: string;
    headers?: Message['headers'];
  }[],
): Message[][] {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 64;
    if (chunk.length > 0 && bytes + size > MAX_REQUEST_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push({ key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers });
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
