// TaskManager's lifecycle against a small fake of the Kafka port: the states a task goes through
// when it is created, closed, lost, discarded, or fails to start.
import { Registry } from 'prom-client';
import { createLogger } from '../../core/logger.ts';
import { GlobalStores } from './global-stores.ts';
import type { StreamsKafkaClient } from './kafka-port.ts';
import { passThroughTopology } from './pass-through-topology.fixture.ts';
import { StreamsMetrics } from './streams-metrics.ts';
import { TaskManager, type TaskHandle } from './task-manager.ts';

const topology = passThroughTopology('unit-tasks');

function managerWith(options: { failProducer?: boolean } = {}) {
  const events: string[] = [];
  const client = {
    kind: 'kafkajs',
    admin: () =>
      Promise.resolve({
        committedOffsets: () => Promise.resolve(new Map([['in', '7']])),
        close: () => Promise.resolve(),
      }),
    transactionalProducer: (id: string) => {
      if (options.failProducer) return Promise.reject(new Error('broker unavailable (injected)'));
      events.push(`producer ${id}`);
      return Promise.resolve({
        begin: () => Promise.reject(new Error('not used')),
        close: () => {
          events.push(`producer ${id} closed`);
          return Promise.resolve();
        },
      });
    },
  } as unknown as StreamsKafkaClient;
  const tasks = new TaskManager({
    topology,
    client,
    guarantee: 'exactly-once',
    log: createLogger('silent'),
    metrics: new StreamsMetrics(new Registry()),
    globalStores: new GlobalStores(topology),
    maxFutureMs: undefined,
    persistentStores: new Set(),
    commit: (handle: TaskHandle) => {
      events.push(`commit ${handle.task.partition}`);
      return Promise.resolve();
    },
    drop: (handle: TaskHandle) => {
      events.push(`drop ${handle.task.partition}`);
      return Promise.resolve();
    },
    rewind: (offsets) => {
      events.push(
        `rewind ${offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`).join(',')}`,
      );
    },
  });
  return { tasks, events };
}

/** Lets the fire-and-forget closes (lost, discarded) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TaskManager', () => {
  it('creates a running task once per partition, with the committed positions', async () => {
    const { tasks, events } = managerWith();
    const handle = await tasks.taskFor(2);
    expect(handle.state).toBe('running');
    expect(await tasks.taskFor(2)).toBe(handle);
    expect(handle.positions).toEqual(new Map([['in:2', 7n]]));
    expect(tasks.partitions).toEqual([2]);
    expect(events).toEqual(['producer unit-tasks-2']);
  });

  it('forgets a task whose creation failed, so the next call tries again', async () => {
    const { tasks } = managerWith({ failProducer: true });
    await expect(tasks.taskFor(0)).rejects.toThrow('injected');
    await settle();
    expect(tasks.partitions).toEqual([]);
  });

  it('commits, then closes, the tasks of partitions that moved', async () => {
    const { tasks, events } = managerWith();
    const moved = await tasks.taskFor(0);
    const kept = await tasks.taskFor(1);
    tasks.assign(new Set([1]));
    await tasks.closeExcept(new Set([1]));
    expect(moved.state).toBe('closed');
    expect(kept.state).toBe('running');
    expect(tasks.partitions).toEqual([1]);
    expect(events.slice(2)).toEqual(['commit 0', 'producer unit-tasks-0 closed']);
  });

  it('closes every task unfinished when the membership is lost', async () => {
    const { tasks, events } = managerWith();
    const handle = await tasks.taskFor(0);
    tasks.lostAll();
    expect(tasks.partitions).toEqual([]);
    await settle();
    expect(handle.state).toBe('closed');
    expect(events.slice(1)).toEqual(['drop 0', 'producer unit-tasks-0 closed']);
  });

  it('discards a task after a failed transaction; the partition gets a new one', async () => {
    const { tasks, events } = managerWith();
    const handle = await tasks.taskFor(0);
    tasks.discard(handle);
    await settle();
    expect(handle.state).toBe('discarded');
    expect(tasks.partitions).toEqual([]);
    const fresh = await tasks.taskFor(0);
    expect(fresh).not.toBe(handle);
    expect(fresh.state).toBe('running');
    // Discarding the old one again touches neither it nor its successor.
    tasks.discard(handle);
    await settle();
    expect(fresh.state).toBe('running');
    expect(events).toEqual([
      'producer unit-tasks-0',
      'producer unit-tasks-0 closed',
      'producer unit-tasks-0',
    ]);
  });

  it('work failing outside a batch discards the task, which is made again; the next batch gets the failure once', async () => {
    const { tasks } = managerWith();
    tasks.assign(new Set([0, 1]));
    const handle = await tasks.taskFor(0);
    await tasks.taskFor(1);
    // A punctuation whose transaction could not begin (the broker just came back, say).
    tasks.forEach('punctuate', (h) =>
      h.task.partition === 0
        ? Promise.reject(new Error('begin refused (injected)'))
        : Promise.resolve(),
    );
    await settle();
    await settle();
    expect(handle.state).toBe('discarded');
    expect(tasks.partitions).toEqual([1]);
    // A batch of the partition would carry the failure (the consumer rewinds), once.
    expect(tasks.takeFailure(0)?.message).toBe('begin refused (injected)');
    expect(tasks.takeFailure(0)).toBeUndefined();
    expect(tasks.takeFailure(1)).toBeUndefined();
  });

  it('a task made again with no batch to carry the failure rewinds its inputs to the last commit', async () => {
    const { tasks, events } = managerWith();
    tasks.assign(new Set([0]));
    const handle = await tasks.taskFor(0);
    tasks.failOutsideBatch(handle, new Error('commit timed out (injected)'));
    await settle();
    // Nothing comes for a bounded input that has ended: the backoff makes the task again.
    tasks.recreateMissing(0);
    tasks.recreateMissing(1_000);
    await settle();
    const fresh = await tasks.taskFor(0);
    expect(fresh.state).toBe('running');
    expect(events.filter((e) => e.startsWith('rewind'))).toEqual(['rewind in:0@7']);
    // Rewound once: no batch throws it any more.
    expect(tasks.takeFailure(0)).toBeUndefined();
  });

  it('forgets the failure of a partition that moved away', async () => {
    const { tasks } = managerWith();
    tasks.assign(new Set([0]));
    const handle = await tasks.taskFor(0);
    tasks.failOutsideBatch(handle, new Error('commit timed out (injected)'));
    tasks.assign(new Set([1]));
    expect(tasks.takeFailure(0)).toBeUndefined();
  });

  it('closes every task at stop, committing first', async () => {
    const { tasks, events } = managerWith();
    const a = await tasks.taskFor(0);
    const b = await tasks.taskFor(1);
    await tasks.closeAll();
    expect([a.state, b.state]).toEqual(['closed', 'closed']);
    expect(events.filter((e) => e.startsWith('commit'))).toEqual(['commit 0', 'commit 1']);
  });
});
