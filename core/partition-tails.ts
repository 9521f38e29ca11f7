// What stands between a group's committed offset and a partition's end: records, or only
// transaction markers and aborted records. Consumer lag needs it to apply core/group-drained.ts:
// a group that read a transactional partition to its last record commits one short of the end
// (the commit marker) and would otherwise show a lag of 1 forever, and a lag in seconds that grows
// while nothing is left to read.
//
// Read with one read_committed Fetch per partition leader from the committed offsets, sessionless
// (no fetch session is created on the broker), through @platformatic/kafka's protocol layer:
// kafkajs keeps its Fetch behind its consumer group. Only small lags are read (a larger one is
// records, in practice), and a read is kept while the partition's end and the offset stay put,
// so a scrape of an idle platform fetches nothing.
import {
  Admin,
  ConnectionPool,
  fetchV12,
  type Broker,
  type RecordsBatch,
} from '@platformatic/kafka';
import type { PartitionTail } from './group-drained.ts';
import type { KafkaClientConfig } from './kafka-client.ts';
import { readCommitted } from './read-committed.ts';

/** A partition to read from `from` (a group's committed offset) up to `end` (exclusive). */
export interface TailQuery {
  topic: string;
  partition: number;
  from: bigint;
  end: bigint;
}

/** Reads what follows committed offsets; `undefined` where it could not tell (raw lag then). */
export interface PartitionTailReader {
  read(queries: readonly TailQuery[]): Promise<Map<string, PartitionTail>>;
  close(): Promise<void>;
}

/** One query's key: several groups may read one partition, each from its own offset. */
export const tailKey = (topic: string, partition: number, from: bigint): string =>
  `${topic}\u0000${partition}\u0000${from}`;

const READ_COMMITTED = 1;
/** Lags above this many offsets are taken as records without reading them. */
export const TAIL_READ_MAX_LAG = 100n;
const PARTITION_MAX_BYTES = 1024 * 1024;

/** What a Fetch response says of one partition (the parts read here). */
export interface FetchedPartition {
  errorCode: number;
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[] | null;
  records?: readonly RecordsBatch[] | null;
}

/**
 * The first record a read_committed consumer gets in [from, end) of one Fetch response
 * partition (core/read-committed.ts). `undefined` when the response does not reach `end` (cut by
 * size, or an open transaction holds the stable offset back), so nothing can be said.
 */
export function firstReadableRecord(
  response: FetchedPartition,
  from: bigint,
  end: bigint,
): PartitionTail | undefined {
  if (response.errorCode !== 0) return undefined;
  const { records, next } = readCommitted(
    response.records ?? [],
    response.abortedTransactions ?? [],
    from,
  );
  const first = records.find((r) => r.offset < end)?.offset;
  if (first !== undefined) return { kind: 'records-from', from, first };
  return next >= end ? { kind: 'records-from', from, first: undefined } : undefined;
}

/** A PartitionTailReader on the cluster, remembering reads while nothing moved. */
export class FetchPartitionTailReader implements PartitionTailReader {
  private readonly admin: Admin;
  private readonly connections: ConnectionPool;
  /** Reads kept while the partition's end stays put, by query. */
  private known = new Map<string, { end: bigint; tail: PartitionTail }>();

  constructor(config: KafkaClientConfig, role: string) {
    const clientId = `${config.kafka.clientId}-${role}-tails`;
    this.admin = new Admin({ clientId, bootstrapBrokers: [...config.kafka.brokers] });
    this.connections = new ConnectionPool(clientId);
  }

  async read(queries: readonly TailQuery[]): Promise<Map<string, PartitionTail>> {
    const tails = new Map<string, PartitionTail>();
    const toRead: TailQuery[] = [];
    for (const q of queries) {
      const lag = q.end - q.from;
      if (lag <= 0n || lag > TAIL_READ_MAX_LAG) continue;
      const key = tailKey(q.topic, q.partition, q.from);
      const known = this.known.get(key);
      if (known?.end === q.end) tails.set(key, known.tail);
      else toRead.push(q);
    }
    if (toRead.length > 0) {
      // Without metadata (a deleted topic, an outage) the partitions keep their raw lag.
      const metadata = await this.admin
        .metadata({ topics: [...new Set(toRead.map((q) => q.topic))] })
        .catch(() => undefined);
      const byLeader = new Map<number, TailQuery[]>();
      for (const q of metadata ? toRead : []) {
        const leader = metadata?.topics.get(q.topic)?.partitions[q.partition]?.leader;
        if (leader === undefined || leader < 0) continue;
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), q]);
      }
      await Promise.all(
        [...byLeader].map(async ([node, leaderQueries]) => {
          const broker = metadata?.brokers.get(node);
          // A leader that cannot answer leaves its partitions at their raw lag.
          const read = broker
            ? await this.fetch(broker, leaderQueries).catch(() => new Map<string, PartitionTail>())
            : new Map<string, PartitionTail>();
          for (const [key, tail] of read) tails.set(key, tail);
        }),
      );
    }
    const asked = new Set(queries.map((q) => tailKey(q.topic, q.partition, q.from)));
    for (const key of this.known.keys()) if (!asked.has(key)) this.known.delete(key);
    for (const q of toRead) {
      const key = tailKey(q.topic, q.partition, q.from);
      const tail = tails.get(key);
      if (tail) this.known.set(key, { end: q.end, tail });
    }
    return tails;
  }

  /**
   * One Fetch to `broker` for its partitions. A partition is named once (Fetch allows no more),
   * from the lowest offset asked of it; each query is answered from that read.
   */
  private async fetch(
    broker: Broker,
    queries: readonly TailQuery[],
  ): Promise<Map<string, PartitionTail>> {
    const connection = await this.connections.get(broker);
    const lowest = new Map<string, Map<number, bigint>>();
    for (const q of queries) {
      const partitions = lowest.get(q.topic) ?? new Map<number, bigint>();
      const from = partitions.get(q.partition);
      partitions.set(q.partition, from === undefined || q.from < from ? q.from : from);
      lowest.set(q.topic, partitions);
    }
    const response = await fetchV12.api.async(
      connection,
      0,
      0,
      PARTITION_MAX_BYTES * queries.length,
      READ_COMMITTED,
      0,
      -1, // sessionless: a full fetch that opens no fetch session
      [...lowest].map(([topic, partitions]) => ({
        topicId: topic, // Fetch v12 names topics
        partitions: [...partitions].map(([partition, fetchOffset]) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset,
          lastFetchedEpoch: -1,
          partitionMaxBytes: PARTITION_MAX_BYTES,
        })),
      })),
      [],
      '',
    );
    const fetched = new Map<string, FetchedPartition>();
    for (const topic of response.responses)
      for (const p of topic.partitions) fetched.set(`${topic.topicId}\u0000${p.partitionIndex}`, p);
    const tails = new Map<string, PartitionTail>();
    for (const q of queries) {
      const p = fetched.get(`${q.topic}\u0000${q.partition}`);
      const tail = p && firstReadableRecord(p, q.from, q.end);
      if (tail) tails.set(tailKey(q.topic, q.partition, q.from), tail);
    }
    return tails;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.connections.close(), this.admin.close()]);
  }
}
