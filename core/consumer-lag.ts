// Consumer group lag, as kafka_exporter reports it (`kafka_consumergroup_lag`): per group, topic
// and partition, the partition's end offset minus the group's committed offset, except that a
// group holding nothing left to read has a lag of 0 (core/group-drained.ts): one that read a
// transactional partition to its last record commits one short of the end (the commit marker).
// Measured from the broker (admin API), so it covers every process of every group, running or not.
import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import { partitionLag } from './group-drained.ts';
import { LagTimeEstimator } from './lag-time-estimator.ts';
import { tailKey, type PartitionTailReader } from './partition-tails.ts';

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  committed: number;
  end: number;
  /** Offsets left to read: end − committed, 0 when only markers or aborted records remain. */
  lag: number;
}

/** Short-lived groups the stream runtime reads changelogs and global topics with (kafkajs). */
const RUNTIME_READER_GROUP = /-(restore(-\d+)*|follow)-[0-9a-f]{8}$/;

/**
 * Lag of every consumer group whose id starts with `groupPrefix`. A partition without a
 * committed offset is left out (the group has not read it). With `tails`, what lies between a
 * committed offset and a nearby end is read: a caught-up partition written transactionally
 * then shows 0 (Kafka's own tools show 1, the commit marker). Without, the raw difference.
 */
export async function measureConsumerLag(
  admin: Admin,
  groupPrefix: string,
  tails?: PartitionTailReader,
): Promise<PartitionLag[]> {
  const { groups } = await admin.listGroups();
  const ids = groups
    .map((g) => g.groupId)
    .filter((id) => id.startsWith(groupPrefix) && !RUNTIME_READER_GROUP.test(id))
    .sort();
  return measureGroupsLag(admin, ids, tails);
}

/** Lag of the named groups (a group that committed nothing has no rows). */
export async function measureGroupsLag(
  admin: Admin,
  ids: readonly string[],
  tails?: PartitionTailReader,
): Promise<PartitionLag[]> {
  const ends = new Map<string, Map<number, number>>();
  const endOf = async (topic: string): Promise<Map<number, number>> => {
    let known = ends.get(topic);
    if (!known) {
      const offsets = await admin.fetchTopicOffsets(topic);
      known = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
      ends.set(topic, known);
    }
    return known;
  };
  const existing = new Set(await admin.listTopics());
  const lags: PartitionLag[] = [];
  for (const group of ids) {
    const committed = await admin.fetchOffsets({ groupId: group });
    for (const { topic, partitions } of committed) {
      if (!existing.has(topic)) continue;
      const end = await endOf(topic);
      for (const p of partitions) {
        const offset = Number(p.offset);
        if (offset < 0) continue;
        const high = end.get(p.partition) ?? offset;
        lags.push({
          group,
          topic,
          partition: p.partition,
          committed: offset,
          end: high,
          lag: Math.max(0, high - offset),
        });
      }
    }
  }
  if (tails) await applyTails(lags, tails);
  return lags.sort(
    (a, b) =>
      a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic) || a.partition - b.partition,
  );
}

/** Lowers each lag to what core/group-drained.ts says is left, where the tail was read. */
async function applyTails(lags: PartitionLag[], tails: PartitionTailReader): Promise<void> {
  const read = await tails.read(
    lags.map((l) => ({
      topic: l.topic,
      partition: l.partition,
      from: BigInt(l.committed),
      end: BigInt(l.end),
    })),
  );
  for (const l of lags) {
    const tail = read.get(tailKey(l.topic, l.partition, BigInt(l.committed)));
    if (tail) l.lag = partitionLag(BigInt(l.end), BigInt(l.committed), tail);
  }
}

/** Registers `kafka_consumergroup_lag`, measured on every scrape. */
export function registerConsumerLagGauge(
  registry: Registry,
  measure: () => Promise<PartitionLag[]>,
): Gauge {
  return new Gauge({
    name: 'kafka_consumergroup_lag',
    help: 'Records a consumer group has yet to read, per topic partition (end offset − committed offset; 0 when only transaction markers or aborted records remain)',
    labelNames: ['consumergroup', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      const lags = await measure();
      this.reset();
      for (const l of lags)
        this.set({ consumergroup: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
    },
  });
}

/**
 * `kafka_consumergroup_lag` (records) and `kafka_consumergroup_lag_seconds` (how long the oldest
 * uncommitted record has waited, LagTimeEstimator), from one measurement per scrape; `measure`
 * is that measurement (shared within a second) for others, such as the readiness probe.
 */
export function registerConsumerLagGauges(
  registry: Registry,
  measure: () => Promise<PartitionLag[]>,
  estimator = new LagTimeEstimator(),
  clock: () => number = Date.now,
): { records: Gauge; seconds: Gauge; measure: () => Promise<PartitionLag[]> } {
  // Both gauges are collected in one scrape: they share its measurement.
  let latest: { at: number; lags: Promise<PartitionLag[]> } | undefined;
  const measureOnce = (): Promise<PartitionLag[]> => {
    const now = clock();
    if (latest && now - latest.at < 1_000) return latest.lags;
    const lags = measure().then((rows) => {
      estimator.retain(rows);
      estimator.observe(rows, now);
      return rows;
    });
    latest = { at: now, lags };
    return lags;
  };
  const records = registerConsumerLagGauge(registry, measureOnce);
  const seconds = new Gauge({
    name: 'kafka_consumergroup_lag_seconds',
    help: "Seconds the group's oldest uncommitted record has waited, per topic partition (interpolated from the end offsets seen at each scrape; 0 when caught up)",
    labelNames: ['consumergroup', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      const lags = await measureOnce();
      const now = clock();
      this.reset();
      for (const l of lags)
        this.set(
          { consumergroup: l.group, topic: l.topic, partition: String(l.partition) },
          estimator.secondsBehind(l, now),
        );
    },
  });
  return { records, seconds, measure: measureOnce };
}
