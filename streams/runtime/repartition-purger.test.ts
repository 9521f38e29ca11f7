import { Counter, Registry } from 'prom-client';
import { createLogger } from '../../core/logger.ts';
import type { StreamsAdmin, TopicPartitionOffset } from './kafka-port.ts';
import { RepartitionPurger } from './repartition-purger.ts';

const REPARTITION = 'app-by-depot-repartition';

function purgerWith(
  deleteRecordsBefore: (offsets: readonly TopicPartitionOffset[]) => Promise<void>,
) {
  const registry = new Registry();
  const purges = new Counter({
    name: 'purges',
    help: 'purges',
    labelNames: ['application', 'outcome'],
    registers: [registry],
  });
  const admin = { deleteRecordsBefore, close: () => Promise.resolve() } as unknown as StreamsAdmin;
  const purger = new RepartitionPurger({
    client: { admin: () => Promise.resolve(admin) },
    topics: new Set([REPARTITION]),
    intervalMs: 0,
    application: 'app',
    purges,
    log: createLogger('silent'),
  });
  const outcome = async (name: string): Promise<number> =>
    (await purges.get()).values.find((v) => v.labels.outcome === name)?.value ?? 0;
  return { purger, outcome };
}

describe('RepartitionPurger', () => {
  it('deletes below the latest committed offset per repartition partition, and only there', async () => {
    const rounds: TopicPartitionOffset[][] = [];
    const { purger, outcome } = purgerWith((offsets) => {
      rounds.push([...offsets]);
      return Promise.resolve();
    });
    purger.committed([
      { topic: REPARTITION, partition: 0, offset: '10' },
      { topic: 'input', partition: 0, offset: '99' },
    ]);
    purger.committed([{ topic: REPARTITION, partition: 0, offset: '12' }]);
    await purger.purge();
    await purger.purge(); // nothing new: no request
    expect(rounds).toEqual([[{ topic: REPARTITION, partition: 0, offset: '12' }]]);
    expect(await outcome('purged')).toBe(1);
  });

  it('keeps the offsets of a failed round for the next, unless newer ones came meanwhile', async () => {
    let fail = true;
    const rounds: TopicPartitionOffset[][] = [];
    const { purger, outcome } = purgerWith((offsets) => {
      rounds.push([...offsets]);
      if (fail) {
        // Committed while the failing round ran.
        purger.committed([{ topic: REPARTITION, partition: 1, offset: '7' }]);
        return Promise.reject(new Error('broker gone'));
      }
      return Promise.resolve();
    });
    purger.committed([
      { topic: REPARTITION, partition: 0, offset: '5' },
      { topic: REPARTITION, partition: 1, offset: '3' },
    ]);
    await purger.purge();
    expect(await outcome('failed')).toBe(1);
    fail = false;
    await purger.purge();
    expect(rounds[1]).toEqual(
      expect.arrayContaining([
        { topic: REPARTITION, partition: 0, offset: '5' },
        { topic: REPARTITION, partition: 1, offset: '7' },
      ]),
    );
    expect(rounds[1]).toHaveLength(2);
    await purger.stop();
    purger.committed([{ topic: REPARTITION, partition: 0, offset: '9' }]);
    await purger.purge(); // stopped: no more rounds
    expect(rounds).toHaveLength(2);
  });
});
