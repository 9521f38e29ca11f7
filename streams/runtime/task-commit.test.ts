// TaskCommitter on its own: one transaction per unit of work, committed by its timer once the
// commit interval has passed or at once when full; a failed commit aborts and discards the task,
// a processor's `fail` aborts without discarding.
import { Registry } from 'prom-client';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import type {
  ProducedRecord,
  StreamsGroupConsumer,
  StreamsTransaction,
  TransactionalProducer,
} from './kafka-port.ts';
import { StreamTask, TaskFailedError } from './stream-task.ts';
import { TaskInputProgress } from './task-input-progress.ts';
import { passThroughTopology } from './pass-through-topology.fixture.ts';
import { StreamsMetrics } from './streams-metrics.ts';
import { TaskCommitter } from './task-commit.ts';
import type { TaskHandle } from './task-manager.ts';

const topology = passThroughTopology('unit-commit');

function setup(options: { commitIntervalMs?: number; maxTransactionRecords?: number } = {}) {
  const calls: string[] = [];
  const sent: ProducedRecord[] = [];
  let failCommit = false;
  let failSend = false;
  let held: Promise<void> | undefined;
  const producer: TransactionalProducer = {
    begin: () => {
      calls.push('begin');
      const transaction: StreamsTransaction = {
        send: async (records) => {
          if (held) {
            calls.push(`send ${records.length} started`);
            await held;
          }
          if (failSend) {
            failSend = false;
            throw new Error('send refused (injected)');
          }
          sent.push(...records);
          calls.push(`send ${records.length}`);
        },
        sendOffsets: (_consumer, offsets) => {
          calls.push(`offsets ${offsets.map((o) => o.offset).join(',')}`);
          return Promise.resolve();
        },
        commit: () => {
          calls.push('commit');
          return failCommit ? Promise.reject(new Error('fenced (injected)')) : Promise.resolve();
        },
        abort: () => {
          calls.push('abort');
          return Promise.resolve();
        },
      };
      return Promise.resolve(transaction);
    },
    close: () => Promise.resolve(),
  };
  const handle: TaskHandle = {
    task: new StreamTask(topology, 0),
    producer,
    state: 'running',
    forwardedSeen: {},
    deadLetteredSeen: {},
    lock: Promise.resolve(),
    busy: undefined,
    open: undefined,
    lastCommitAt: Date.now(),
    positions: new Map([['in:0', 1n]]),
    progress: new TaskInputProgress(['in:0'], Date.now),
  };
  const discarded: TaskHandle[] = [];
  const committedOffsets: string[] = [];
  const failedOutside: string[] = [];
  const lockedWork: Promise<unknown>[] = [];
  const committer = new TaskCommitter({
    applicationId: 'unit-commit',
    guarantee: 'exactly-once',
    log: createLogger('silent'),
    debug: false,
    metrics: new StreamsMetrics(new Registry()),
    commitIntervalMs: options.commitIntervalMs ?? 0,
    maxTransactionRecords: options.maxTransactionRecords ?? 10_000,
    maxTransactionBytes: 1 << 20,
    atLeastOnceChangelogBytes: 256 * 1024,
    outputTopics: new Set(['out']),
    consumer: () => ({}) as StreamsGroupConsumer,
    producer: () => {
      throw new Error('no at-least-once producer here');
    },
    stopped: () => false,
    withLock: (_handle, _label, work) => {
      const run = work();
      lockedWork.push(run.catch(() => undefined));
      return run;
    },
    onCommitted: (offsets) => committedOffsets.push(...offsets.map((o) => o.offset)),
    onTransactionFailed: (h) => discarded.push(h),
    onFailedOutsideBatch: (_h, err) => failedOutside.push((err as Error).message),
  });
  /** Processes one record into the open transaction, as StreamsApplication does. */
  const process = async (offset: number): Promise<void> => {
    const open = await committer.begin(handle);
    await handle.task.process(
      { topic: 'in', partition: 0, offset: String(offset) },
      { key: Buffer.from('k'), value: Buffer.from(`v${offset}`), timestamp: 1_000 + offset },
    );
    await committer.add(handle, open);
    open.records += 1;
    open.offsets.set('in:0', { topic: 'in', partition: 0, offset: String(offset + 1) });
  };
  return {
    committer,
    handle,
    calls,
    sent,
    discarded,
    committedOffsets,
    failedOutside,
    process,
    lockedWork,
    failNextCommit: () => (failCommit = true),
    failNextSend: () => (failSend = true),
    /** Sends wait until the returned function is called. */
    holdSends: (): (() => void) => {
      let release: () => void = () => undefined;
      held = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
  };
}

describe('TaskCommitter', () => {
  it('keeps one transaction open across work until its timer commits it', async () => {
    const { committer, handle, calls, committedOffsets, process } = setup({
      commitIntervalMs: 50,
    });
    await process(0);
    await committer.schedule(handle);
    await process(1);
    await committer.schedule(handle);
    expect(calls).toEqual(['begin', 'send 1', 'send 1']);
    await waitFor(() => (handle.open === undefined ? true : undefined), {
      timeoutMs: 2_000,
      intervalMs: 10,
      description: 'the timed commit',
    });
    expect(calls.slice(3)).toEqual(['send 0', 'offsets 2', 'commit']);
    expect(committedOffsets).toEqual(['2']);
  });

  it('counts the interval from the last commit: work begun long after it commits at once, work begun just after it waits', async () => {
    const { committer, handle, calls, process, lockedWork } = setup({ commitIntervalMs: 60_000 });
    // The last commit is an interval ago (a task that was idle, fed in bursts).
    handle.lastCommitAt = Date.now() - 60_000;
    await process(0);
    await committer.schedule(handle);
    expect(lockedWork).toHaveLength(1);
    await Promise.all(lockedWork);
    expect(handle.open).toBeUndefined();
    expect(calls.at(-1)).toBe('commit');
    // That commit began just now: the next work waits for the rest of the interval.
    await process(1);
    await committer.schedule(handle);
    expect(lockedWork).toHaveLength(1);
    expect(handle.open?.timer).toBeDefined();
    expect(calls.at(-1)).not.toBe('commit');
    await committer.commit(handle);
  });

  it('commits at once when the interval is 0, and says when the work is full', async () => {
    const { committer, handle, calls, process, lockedWork } = setup({ maxTransactionRecords: 2 });
    await process(0);
    expect(committer.full(handle)).toBe(false);
    await process(1);
    expect(committer.full(handle)).toBe(true);
    await committer.schedule(handle);
    // Due: queued behind the caller's lock at once, not awaited by the caller.
    expect(lockedWork).toHaveLength(1);
    await Promise.all(lockedWork);
    expect(handle.open).toBeUndefined();
    expect(committer.full(handle)).toBe(false);
    expect(calls.at(-1)).toBe('commit');
  });

  it('processes on while sends are in flight, one send after another, and commits after the last', async () => {
    const { committer, handle, calls, process, holdSends } = setup();
    const release = holdSends();
    await process(0);
    await process(1);
    // Both records processed; the first send is in flight, the second queued behind it.
    expect(calls).toEqual(['begin', 'send 1 started']);
    const committing = committer.commit(handle);
    release();
    await committing;
    expect(calls).toEqual([
      'begin',
      'send 1 started',
      'send 1',
      'send 1 started',
      'send 1',
      'send 0 started',
      'send 0',
      'offsets 2',
      'commit',
    ]);
  });

  it('a send that failed in flight fails the next add and the commit, which aborts', async () => {
    const { committer, handle, calls, discarded, process, failNextSend } = setup();
    failNextSend();
    await process(0);
    await handle.open?.sending.catch(() => undefined); // the failed send has settled
    await expect(process(1)).rejects.toThrow('send refused (injected)');
    await expect(committer.commit(handle)).rejects.toThrow('send refused (injected)');
    expect(calls.slice(-1)).toEqual(['abort']);
    expect(calls).not.toContain('commit');
    expect(discarded).toEqual([handle]);
  });

  it('aborts a failed commit, forgets the positions and discards the task', async () => {
    const { committer, handle, calls, discarded, process, failNextCommit } = setup();
    await process(0);
    failNextCommit();
    await expect(committer.commit(handle)).rejects.toThrow('injected');
    expect(calls.slice(-2)).toEqual(['commit', 'abort']);
    expect(handle.open).toBeUndefined();
    expect(handle.positions.size).toBe(0);
    expect(discarded).toEqual([handle]);
  });

  it('a timed commit that fails is reported as work failed outside a batch', async () => {
    const { committer, handle, calls, discarded, failedOutside, process, failNextCommit } = setup({
      commitIntervalMs: 30,
    });
    await process(0);
    failNextCommit();
    await committer.schedule(handle);
    await waitFor(() => (failedOutside.length > 0 ? true : undefined), {
      timeoutMs: 2_000,
      intervalMs: 10,
      description: 'the timed commit to fail',
    });
    expect(failedOutside).toEqual(['fenced (injected)']);
    expect(calls.slice(-2)).toEqual(['commit', 'abort']);
    expect(discarded).toEqual([handle]);
  });

  it("aborts a processor's fail without discarding the task", async () => {
    const { committer, handle, calls, discarded, process } = setup();
    await process(0);
    await committer.abort(handle, new TaskFailedError('processor failed'));
    expect(calls.at(-1)).toBe('abort');
    expect(discarded).toEqual([]);
  });

  it('drops open work quietly', async () => {
    const { committer, handle, calls, discarded, process } = setup({ commitIntervalMs: 60_000 });
    await process(0);
    await committer.schedule(handle);
    await committer.drop(handle);
    expect(handle.open).toBeUndefined();
    expect(calls.at(-1)).toBe('abort');
    expect(discarded).toEqual([]);
  });
});
