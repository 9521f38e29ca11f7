// Active/standby: all partitions to the member that started first, none to the others.
import kafkajs, { type Cluster } from 'kafkajs';
import { activeStandbyAssigner } from './active-standby-assigner.ts';

const { AssignerProtocol } = kafkajs;

const cluster = {
  findTopicPartitionMetadata: () => [0, 1, 2].map((partitionId) => ({ partitionId })),
} as unknown as Cluster;

async function assign(members: { id: string; startedAt: number }[]) {
  const withMetadata = members.map((m) => ({
    memberId: m.id,
    memberMetadata: activeStandbyAssigner(m.startedAt)({
      cluster,
      groupId: 'g',
      logger: console as never,
    }).protocol({ topics: ['deliveries'] }).metadata,
  }));
  const assigner = activeStandbyAssigner(0)({ cluster, groupId: 'g', logger: console as never });
  const result = await assigner.assign({ members: withMetadata, topics: ['deliveries'] });
  return Object.fromEntries(
    result.map((r) => [
      r.memberId,
      AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment,
    ]),
  );
}

describe('activeStandbyAssigner', () => {
  it('gives every partition to the member that started first', async () => {
    expect(
      await assign([
        { id: 'a-new', startedAt: 2_000 },
        { id: 'z-old', startedAt: 1_000 },
      ]),
    ).toEqual({ 'z-old': { deliveries: [0, 1, 2] }, 'a-new': {} });
  });

  it('a lone member gets everything', async () => {
    expect(await assign([{ id: 'only', startedAt: 5 }])).toEqual({
      only: { deliveries: [0, 1, 2] },
    });
  });
});
