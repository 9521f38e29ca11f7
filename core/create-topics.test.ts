// Creating topics waits through a busy broker's "not yet" answers until every partition is led.
import type { Admin } from 'kafkajs';
import { createTopicsWithLeaders } from './create-topics.ts';

/** Metadata answers in turn: an error (the broker does not know the topic yet), then states. */
function fakeAdmin(answers: (Error | { leader: number }[])[]): Admin & { asked: number } {
  const admin = {
    asked: 0,
    createTopics: () => Promise.resolve(true),
    fetchTopicMetadata: () => {
      const answer = answers[Math.min(admin.asked, answers.length - 1)];
      admin.asked += 1;
      if (answer instanceof Error) return Promise.reject(answer);
      return Promise.resolve({
        topics: [
          {
            name: 't',
            partitions: (answer ?? []).map((p, i) => ({ partitionId: i, ...p })),
          },
        ],
      });
    },
  };
  return admin as unknown as Admin & { asked: number };
}

describe('createTopicsWithLeaders', () => {
  it('takes "does not host this topic-partition" and leaderless partitions as not yet', async () => {
    const admin = fakeAdmin([
      new Error('This server does not host this topic-partition'),
      [{ leader: 1 }, { leader: -1 }],
      [{ leader: 1 }, { leader: 1 }],
    ]);
    await expect(createTopicsWithLeaders(admin, [{ topic: 't', numPartitions: 2 }])).resolves.toBe(
      true,
    );
    expect(admin.asked).toBe(3);
  });

  it('waits for the partition count asked for, and gives up at its timeout', async () => {
    const admin = fakeAdmin([[{ leader: 1 }]]);
    await expect(
      createTopicsWithLeaders(admin, [{ topic: 't', numPartitions: 2 }], 300),
    ).rejects.toThrow('timed out after 300 ms waiting for leaders of t');
  });
});
