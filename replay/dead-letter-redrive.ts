// Re-drives dead letters to the topic they came from, after the fix that makes them pass:
// filtered by reason and by when they failed, each at most once. Every re-driven letter is
// recorded in a compacted ledger topic (`<dlq>.redriven`, key = where the letter sits) in the
// same Kafka transaction as the re-sent record, so a crash never sends without recording or
// records without sending; the producer's transactional id fences a concurrent re-drive of the
// same DLQ before the ledger is read.
import type { Admin, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { createTopicsWithLeaders } from '../core/create-topics.ts';
import { DLQ_HEADERS } from '../core/dead-letter.ts';
import type { KafkaClientConfig } from '../core/kafka-client.ts';
import { readOffsetRanges } from '../core/read-offset-ranges.ts';
import { dlqTopic } from '../core/topics.ts';
import { ProgressTracker, type ReplayProgress } from './replay-progress.ts';
import { timeRangeOffsets } from './rebuild-view.ts';

export interface RedriveRequest {
  /** The topic whose dead letters to re-drive (its DLQ is `<topic>.dlq`). */
  topic: string;
  /** Only letters whose reason (or, without one, error code) is one of these; all when absent. */
  reasons?: readonly string[];
  /** Only letters that failed at or after this time (epoch ms). */
  failedFrom?: number;
  /** Only letters that failed before this time (epoch ms). */
  failedUntil?: number;
}

export interface RedriveReport {
  dlq: string;
  /** Letters that match the filter. */
  matched: number;
  /** Of those, letters an earlier re-drive already sent (skipped). */
  alreadyRedriven: number;
  /** Letters sent now (0 in a dry run). */
  redriven: number;
  /** Matching letters not re-driven before, by reason. */
  byReason: Record<string, number>;
  executed: boolean;
}

export interface RedriveDeps {
  kafka: Kafka;
  admin: Admin;
  config: KafkaClientConfig;
  groupPrefix: string;
}

/** Where the ledger of a DLQ's re-driven letters lives. */
export function redriveLedgerTopic(dlq: string): string {
  return `${dlq}.redriven`;
}

/** A dead letter's identity: where it sits in its DLQ. */
export function letterId(dlq: string, partition: number, offset: string): string {
  return `${dlq}/${partition}/${offset}`;
}

export const REDRIVE_HEADER = 'continuum.redrive.of';

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The reason a letter is filed under: its domain reason, else its error code, else its class. */
export function reasonOf(headers: IHeaders | undefined): string {
  return (
    header(headers, DLQ_HEADERS.reason) ||
    header(headers, DLQ_HEADERS.errorCode) ||
    header(headers, DLQ_HEADERS.errorClass) ||
    'unknown'
  );
}

export function matchesRedrive(headers: IHeaders | undefined, request: RedriveRequest): boolean {
  if (request.reasons && request.reasons.length > 0 && !request.reasons.includes(reasonOf(headers)))
    return false;
  const failedAt = Number(header(headers, DLQ_HEADERS.failedAt));
  if (request.failedFrom !== undefined && !(failedAt >= request.failedFrom)) return false;
  if (request.failedUntil !== undefined && !(failedAt < request.failedUntil)) return false;
  return true;
}

/** The record to send again: the original key, bytes and headers, minus the DLQ's context. */
export function redrivenRecord(
  message: KafkaMessage,
  id: string,
): { key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (name.startsWith('continuum.error.') || name.startsWith('continuum.source.')) continue;
    if (value !== undefined) headers[name] = value;
  }
  headers[REDRIVE_HEADER] = id;
  return { key: message.key, value: message.value, headers };
}

async function readLedger(deps: RedriveDeps, ledger: string): Promise<Set<string>> {
  const done = new Set<string>();
  const bounds = await deps.admin.fetchTopicOffsets(ledger);
  await readOffsetRanges(deps.kafka, deps.config, {
    topic: ledger,
    ranges: bounds.map((b) => ({
      partition: b.partition,
      from: Number(b.low),
      to: Number(b.high),
    })),
    groupPrefix: deps.groupPrefix,
    onBatch: (_partition, messages) => {
      for (const m of messages) if (m.key) done.add(m.key.toString());
      return Promise.resolve();
    },
  });
  return done;
}

export async function redriveDeadLetters(
  deps: RedriveDeps,
  request: RedriveRequest,
  options: {
    execute: boolean;
    signal?: AbortSignal;
    onProgress?: (progress: ReplayProgress) => void;
  },
): Promise<RedriveReport> {
  const dlq = dlqTopic(request.topic);
  const ledger = redriveLedgerTopic(dlq);
  if (!(await deps.admin.listTopics()).includes(ledger))
    await createTopicsWithLeaders(deps.admin, [
      {
        topic: ledger,
        numPartitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ]);
  let producer: Producer | undefined;
  if (options.execute) {
    producer = deps.kafka.producer({
      transactionalId: `${deps.groupPrefix}-${dlq}`,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    // Connecting fences any other re-drive of this DLQ before we read what it recorded.
    await producer.connect();
  }
  try {
    const redrivenBefore = await readLedger(deps, ledger);
    const ranges = await timeRangeOffsets(deps.admin, dlq, { from: request.failedFrom });
    const total = ranges.reduce((n, r) => n + Math.max(0, r.to - r.from), 0);
    const tracker = new ProgressTracker(total, options.onProgress ?? (() => undefined));
    const report: RedriveReport = {
      dlq,
      matched: 0,
      alreadyRedriven: 0,
      redriven: 0,
      byReason: {},
      executed: options.execute,
    };
    await readOffsetRanges(deps.kafka, deps.config, {
      topic: dlq,
      ranges,
      groupPrefix: deps.groupPrefix,
      signal: options.signal,
      onBatch: async (partition, messages) => {
        const toSend: { id: string; target: string; message: KafkaMessage }[] = [];
        for (const message of messages) {
          if (!matchesRedrive(message.headers, request)) continue;
          report.matched += 1;
          const id = letterId(dlq, partition, message.offset);
          if (redrivenBefore.has(id)) {
            report.alreadyRedriven += 1;
            continue;
          }
          const reason = reasonOf(message.headers);
          report.byReason[reason] = (report.byReason[reason] ?? 0) + 1;
          const target = header(message.headers, DLQ_HEADERS.topic) ?? request.topic;
          toSend.push({ id, target, message });
        }
        if (producer && toSend.length > 0) {
          const transaction = await producer.transaction();
          try {
            const byTarget = new Map<string, typeof toSend>();
            for (const s of toSend) byTarget.set(s.target, [...(byTarget.get(s.target) ?? []), s]);
            await transaction.sendBatch({
              acks: -1,
              topicMessages: [
                ...[...byTarget].map(([topic, sends]) => ({
                  topic,
                  messages: sends.map((s) => redrivenRecord(s.message, s.id)),
                })),
                {
                  topic: ledger,
                  messages: toSend.map((s) => ({
                    key: s.id,
                    value: JSON.stringify({ to: s.target, at: Date.now() }),
                  })),
                },
              ],
            });
            await transaction.commit();
          } catch (err) {
            await transaction.abort().catch(() => undefined);
            throw err;
          }
          for (const s of toSend) redrivenBefore.add(s.id);
          report.redriven += toSend.length;
        }
        tracker.add(messages.length);
      },
    });
    tracker.finish();
    return report;
  } finally {
    await producer?.disconnect();
  }
}
