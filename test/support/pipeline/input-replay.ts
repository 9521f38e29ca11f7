// The pipeline's inputs (shipments.cdc and telemetry.raw records, bytes as written) captured
// from one run and written again into other topics: paced as live (at a speedup of event time)
// or as one burst. Each partition gets its records in their original order, so every record
// keeps its offset, and whatever the pipeline cites of its inputs stays the same.
import type { Kafka, Producer } from 'kafkajs';
import type { ShipmentChange, VehicleTelemetry } from '../../../schemas/types.ts';
import type { PipelineHarness } from './pipeline-harness.ts';

export interface CapturedRecord {
  source: 'changes' | 'telemetry';
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Event time when the value decodes; else the time of the record before it in its partition. */
  eventTime: number;
}

export interface CapturedInputs {
  records: CapturedRecord[];
  firstEventTime: number;
  lastEventTime: number;
}

/** Reads both input topics of `harness` back, in partition and offset order. */
export async function captureInputs(harness: PipelineHarness): Promise<CapturedInputs> {
  const records: CapturedRecord[] = [];
  const topics = [
    ['changes', harness.topics.shipmentsCdc],
    ['telemetry', harness.topics.telemetryRaw],
  ] as const;
  for (const [source, topic] of topics) {
    let previous = Number.NEGATIVE_INFINITY;
    let partition = -1;
    for (const r of await harness.read<ShipmentChange | VehicleTelemetry>(topic)) {
      if (r.partition !== partition) {
        partition = r.partition;
        previous = Number.NEGATIVE_INFINITY;
      }
      const value = r.value;
      const time =
        value === undefined
          ? previous
          : 'eventTime' in value
            ? value.eventTime
            : ((value.after ?? value.before)?.updatedAt ?? previous);
      previous = Number.isFinite(time) ? time : previous;
      records.push({
        source,
        partition: r.partition,
        key: r.raw.key,
        value: r.raw.value,
        eventTime: previous,
      });
    }
  }
  const times = records.map((r) => r.eventTime).filter((t) => Number.isFinite(t) && t > 0);
  return {
    records,
    firstEventTime: Math.min(...times),
    lastEventTime: Math.max(...times),
  };
}

export interface ReplayTopics {
  shipmentsCdc: string;
  telemetryRaw: string;
}

async function withProducer<T>(kafka: Kafka, work: (p: Producer) => Promise<T>): Promise<T> {
  // Idempotent, one request in flight: a partition's records land in the order sent, once.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    return await work(producer);
  } finally {
    await producer.disconnect();
  }
}

async function send(
  producer: Producer,
  topics: ReplayTopics,
  records: readonly CapturedRecord[],
): Promise<void> {
  for (const source of ['changes', 'telemetry'] as const) {
    const mine = records.filter((r) => r.source === source);
    if (mine.length === 0) continue;
    await producer.send({
      topic: source === 'changes' ? topics.shipmentsCdc : topics.telemetryRaw,
      acks: -1,
      messages: mine.map((r) => ({ partition: r.partition, key: r.key, value: r.value })),
    });
  }
}

/** All shipment changes, then all telemetry, as fast as the broker takes them. */
export async function produceBurst(
  kafka: Kafka,
  topics: ReplayTopics,
  inputs: CapturedInputs,
): Promise<void> {
  await withProducer(kafka, async (producer) => {
    for (const source of ['changes', 'telemetry'] as const) {
      const mine = inputs.records.filter((r) => r.source === source);
      for (let i = 0; i < mine.length; i += 2_000)
        await send(producer, topics, mine.slice(i, i + 2_000));
    }
  });
}

/**
 * As live: a record goes out once simulated time (event time at `speedup` × wall time) reaches
 * it, each partition in its own order (a record held back by the source goes right after the
 * one before it). Both topics advance together.
 */
export async function producePaced(
  kafka: Kafka,
  topics: ReplayTopics,
  inputs: CapturedInputs,
  speedup: number,
  tickMs = 25,
): Promise<void> {
  const queues = new Map<string, CapturedRecord[]>();
  for (const r of inputs.records) {
    const key = `${r.source}:${r.partition}`;
    queues.set(key, [...(queues.get(key) ?? []), r]);
  }
  const heads = new Map([...queues.keys()].map((k) => [k, 0]));
  const started = Date.now();
  await withProducer(kafka, async (producer) => {
    for (;;) {
      const now = inputs.firstEventTime + (Date.now() - started) * speedup;
      const due: CapturedRecord[] = [];
      let left = 0;
      for (const [key, queue] of queues) {
        let at = heads.get(key) ?? 0;
        while (at < queue.length && (queue[at] as CapturedRecord).eventTime <= now) {
          due.push(queue[at] as CapturedRecord);
          at += 1;
        }
        heads.set(key, at);
        left += queue.length - at;
      }
      if (due.length > 0) await send(producer, topics, due);
      if (left === 0) return;
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
  });
}
