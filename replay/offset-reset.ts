// Moves a consumer group (a stream application or a sink) to a point in time, like
// `kafka-consumer-groups --reset-offsets --to-datetime`: the new offset of each partition is the
// first record whose timestamp is at or after the time, or the log end when there is none.
// A plan is computed first (GROUP/TOPIC/PARTITION/CURRENT/NEW) and applied only when asked,
// and never while the group has members: a running consumer would overwrite the reset.
import type { Admin } from 'kafkajs';
import { ContinuumError } from '../core/errors.ts';
import { alterGroupOffsets } from '../core/group-offsets.ts';
import type { KafkaClientConfig } from '../core/kafka-client.ts';

export type ResetTarget =
  { kind: 'datetime'; timestamp: number } | { kind: 'earliest' } | { kind: 'latest' };

export interface TopicSelection {
  topic: string;
  /** Only these partitions; all when absent. */
  partitions?: readonly number[];
}

export interface OffsetResetRequest {
  group: string;
  topics: readonly TopicSelection[];
  to: ResetTarget;
}

export interface OffsetResetRow {
  group: string;
  topic: string;
  partition: number;
  /** The committed offset now; null when the group has none for the partition. */
  current: number | null;
  new: number;
}

export interface OffsetResetReport {
  rows: OffsetResetRow[];
  executed: boolean;
}

export class GroupActiveError extends ContinuumError {
  override readonly code = 'GROUP_ACTIVE';
}

export class UnknownTopicError extends ContinuumError {
  override readonly code = 'UNKNOWN_TOPIC';
}

/** The members of a group that is running (any state but Empty and Dead). */
export async function activeMembers(admin: Admin, group: string): Promise<string[]> {
  const { groups } = await admin.describeGroups([group]);
  const described = groups[0];
  if (!described || described.state === 'Empty' || described.state === 'Dead') return [];
  return described.members.map((m) => `${m.clientId}@${m.clientHost}`);
}

/** The new offset of every selected partition, and the group's current one. */
export async function planOffsetReset(
  admin: Admin,
  request: OffsetResetRequest,
): Promise<OffsetResetRow[]> {
  const existing = new Set(await admin.listTopics());
  const rows: OffsetResetRow[] = [];
  for (const selection of request.topics) {
    if (!existing.has(selection.topic))
      throw new UnknownTopicError(`topic ${selection.topic} does not exist`, {
        context: { topic: selection.topic },
      });
    const bounds = await admin.fetchTopicOffsets(selection.topic);
    const wanted = selection.partitions ?? bounds.map((b) => b.partition);
    const unknown = wanted.filter((p) => !bounds.some((b) => b.partition === p));
    if (unknown.length > 0)
      throw new UnknownTopicError(
        `topic ${selection.topic} has no partition ${unknown.join(', ')}`,
        { context: { topic: selection.topic, partitions: unknown } },
      );
    const target = new Map<number, number>();
    if (request.to.kind === 'datetime') {
      // Kafka's ListOffsets by time; kafkajs answers the log end where no record is that late,
      // as the Java tool does.
      for (const o of await admin.fetchTopicOffsetsByTimestamp(
        selection.topic,
        request.to.timestamp,
      ))
        target.set(o.partition, Number(o.offset));
    } else {
      for (const b of bounds)
        target.set(b.partition, Number(request.to.kind === 'earliest' ? b.low : b.high));
    }
    const [committed] = await admin.fetchOffsets({
      groupId: request.group,
      topics: [selection.topic],
    });
    const current = new Map(
      (committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
    );
    for (const partition of [...wanted].sort((a, b) => a - b)) {
      const now = current.get(partition);
      rows.push({
        group: request.group,
        topic: selection.topic,
        partition,
        current: now === undefined || now < 0 ? null : now,
        new: target.get(partition) ?? 0,
      });
    }
  }
  return rows;
}

/**
 * Plans the reset and, with `execute`, commits the new offsets. Refuses (GroupActiveError) while
 * the group has members, checked again right before the commit.
 */
export async function resetGroupOffsets(
  admin: Admin,
  config: KafkaClientConfig,
  request: OffsetResetRequest,
  options: { execute: boolean },
): Promise<OffsetResetReport> {
  const refuseIfActive = async (): Promise<void> => {
    const members = await activeMembers(admin, request.group);
    if (members.length > 0)
      throw new GroupActiveError(
        `consumer group ${request.group} has ${members.length} running member(s) (${members.join(', ')}); stop them before resetting its offsets`,
        { context: { group: request.group, members } },
      );
  };
  await refuseIfActive();
  const rows = await planOffsetReset(admin, request);
  if (!options.execute) return { rows, executed: false };
  await refuseIfActive();
  await alterGroupOffsets(
    config,
    request.group,
    rows.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.new })),
  );
  return { rows, executed: true };
}
