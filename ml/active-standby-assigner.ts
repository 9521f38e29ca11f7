// The trainer runs active/standby: every partition of deliveries.completed goes to one member of
// the group, the one that started first, and other instances wait idle until it leaves (or its
// session times out). Split partitions would make each instance train on a share of the
// deliveries and publish competing champions; and a newly started standby never takes the work
// from a running trainer, which would cost it a re-read of its window. Each member's start time
// travels in its subscription's user data.
import kafkajs, { type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;
export const ACTIVE_STANDBY = 'ContinuumActiveStandby';

function startedAt(userData: Buffer | null | undefined): number {
  return userData && userData.length >= 8
    ? Number(userData.readBigInt64BE(0))
    : Number.MAX_SAFE_INTEGER;
}

export function activeStandbyAssigner(startedAtMs: number): PartitionAssigner {
  return ({ cluster }) => ({
    name: ACTIVE_STANDBY,
    version: 1,
    assign({ members, topics }) {
      const byAge = members
        .map((m) => ({
          memberId: m.memberId,
          startedAt: startedAt(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData),
        }))
        .sort((a, b) => a.startedAt - b.startedAt || a.memberId.localeCompare(b.memberId));
      const active = byAge[0]?.memberId;
      const all: Record<string, number[]> = Object.fromEntries(
        topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((p) => p.partitionId)]),
      );
      return Promise.resolve(
        members.map((m) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: m.memberId === active ? all : {},
            userData: Buffer.alloc(0),
          }),
        })),
      );
    },
    protocol({ topics }) {
      const userData = Buffer.alloc(8);
      userData.writeBigInt64BE(BigInt(startedAtMs));
      return {
        name: ACTIVE_STANDBY,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }),
      };
    },
  });
}
