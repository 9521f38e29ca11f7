// Rebuilds the materialized view (Redis and PostgreSQL) from shipment.state without downtime:
// the records of a time range are read again and applied through the same version-guarded
// sinks the running sink processes use, so the API keeps serving throughout and a state newer
// than a replayed one is never overwritten.
import type { Admin, Kafka } from 'kafkajs';
import type { KafkaClientConfig } from '../core/kafka-client.ts';
import { readOffsetRanges, type OffsetRange } from '../core/read-offset-ranges.ts';
import type { Sink } from '../connectors/sinks/sink.ts';
import type { UnifiedShipmentState } from '../schemas/types.ts';
import { ProgressTracker, type ReplayProgress } from './replay-progress.ts';

export interface RebuildViewRequest {
  /** Replay records whose timestamp is at or after this (epoch ms); the beginning when absent. */
  from?: number;
  /** Stop at the first record at or after this time; the end offsets at the start when absent. */
  until?: number;
}

export interface RebuildViewReport {
  /** Records read from shipment.state. */
  records: number;
  /** Per sink, states it wrote (newer than what it held). */
  applied: Record<string, number>;
  /** Records that could not be decoded (left to the DLQ of the running sinks). */
  undecodable: number;
  ranges: OffsetRange[];
}

export interface RebuildViewDeps {
  kafka: Kafka;
  admin: Admin;
  config: KafkaClientConfig;
  topic: string;
  decode: (value: Buffer) => Promise<UnifiedShipmentState>;
  sinks: readonly Sink<UnifiedShipmentState>[];
  /** Prefix of the throwaway consumer group that reads the range. */
  groupPrefix: string;
}

/** The offset range per partition covering [from, until) of record time. */
export async function timeRangeOffsets(
  admin: Admin,
  topic: string,
  range: { from?: number; until?: number },
): Promise<OffsetRange[]> {
  const bounds = await admin.fetchTopicOffsets(topic);
  const at = async (
    time: number | undefined,
    fallback: 'low' | 'high',
  ): Promise<Map<number, number>> => {
    if (time === undefined)
      return new Map(bounds.map((b) => [b.partition, Number(fallback === 'low' ? b.low : b.high)]));
    const found = await admin.fetchTopicOffsetsByTimestamp(topic, time);
    return new Map(found.map((o) => [o.partition, Number(o.offset)]));
  };
  const from = await at(range.from, 'low');
  const to = await at(range.until, 'high');
  return bounds
    .map((b) => ({
      partition: b.partition,
      from: Math.max(from.get(b.partition) ?? 0, Number(b.low)),
      to: to.get(b.partition) ?? Number(b.high),
    }))
    .sort((a, b) => a.partition - b.partition);
}

export async function rebuildView(
  deps: RebuildViewDeps,
  request: RebuildViewRequest,
  options: { signal?: AbortSignal; onProgress?: (progress: ReplayProgress) => void } = {},
): Promise<RebuildViewReport> {
  const ranges = await timeRangeOffsets(deps.admin, deps.topic, request);
  const total = ranges.reduce((n, r) => n + Math.max(0, r.to - r.from), 0);
  const tracker = new ProgressTracker(total, options.onProgress ?? (() => undefined));
  const applied: Record<string, number> = Object.fromEntries(deps.sinks.map((s) => [s.name, 0]));
  let records = 0;
  let undecodable = 0;
  await readOffsetRanges(deps.kafka, deps.config, {
    topic: deps.topic,
    ranges,
    groupPrefix: deps.groupPrefix,
    signal: options.signal,
    onBatch: async (partition, messages) => {
      for (const message of messages) {
        records += 1;
        if (!message.value) {
          undecodable += 1;
          continue;
        }
        let state: UnifiedShipmentState;
        try {
          state = await deps.decode(message.value);
        } catch {
          undecodable += 1;
          continue;
        }
        const record = {
          topic: deps.topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: state,
          timestamp: Number(message.timestamp),
        };
        for (const sink of deps.sinks) sink.add(record);
      }
      for (const sink of deps.sinks) {
        const { written } = await sink.flush();
        applied[sink.name] = (applied[sink.name] ?? 0) + written;
      }
      tracker.add(messages.length);
    },
  });
  tracker.finish();
  return { records, applied, undecodable, ranges };
}
