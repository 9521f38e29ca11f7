import { pino } from 'pino';
import { StallWatch, type TaskView } from './stall-watch.ts';

describe('StallWatch', () => {
  let now = 0;
  let lastFetchAt: number | undefined;
  let tasks: TaskView[] = [];
  let lines: { level: number; msg: string }[] = [];

  const logger = (level: 'debug' | 'info') =>
    pino(
      { level },
      {
        write: (line: string) =>
          void lines.push(JSON.parse(line) as { level: number; msg: string }),
      },
    );
  const watch = (level: 'debug' | 'info' = 'debug') =>
    new StallWatch({
      sinceFetchMs: () => (lastFetchAt === undefined ? undefined : now - lastFetchAt),
      tasks: () => tasks,
      log: logger(level),
      reportAfterMs: 5_000,
      warnAfterMs: 60_000,
      aliveEveryMs: 30_000,
      now: () => now,
    });
  const task = (over: Partial<TaskView> = {}): TaskView => ({
    partition: 0,
    state: 'running',
    busy: undefined,
    ...over,
  });

  beforeEach(() => {
    now = 1_000;
    lastFetchAt = now;
    tasks = [task()];
    lines = [];
  });

  it('finds nothing while fetches complete and nothing is held', () => {
    const w = watch();
    const id = w.begin('in', 0);
    now += 4_000;
    w.done(id);
    lastFetchAt = now;
    expect(w.stall(5_000)).toBeUndefined();
  });

  it('names a batch held past the threshold and the stage it waits in', () => {
    const w = watch();
    const id = w.begin('in', 3);
    now += 1_000;
    w.stage(id, 'lock');
    now += 6_000;
    const stall = w.stall(5_000);
    expect(stall?.batches).toEqual([
      { topic: 'in', partition: 3, stage: 'lock', ms: 7_000, stageMs: 6_000 },
    ]);
    expect(stall?.sinceFetchMs).toBe(7_000);
  });

  it('names a task whose lock one work holds past the threshold', () => {
    tasks = [task({ partition: 2, busy: { work: 'timed-commit', since: now } }), task()];
    const w = watch();
    now += 5_001;
    lastFetchAt = now;
    expect(w.stall(5_000)?.busyTasks).toEqual([
      { partition: 2, state: 'running', work: 'timed-commit', ms: 5_001 },
    ]);
  });

  it('reports a consumer that has not fetched for longer than the threshold', () => {
    tasks = [];
    const w = watch();
    now += 5_001;
    expect(w.stall(5_000)).toEqual({ sinceFetchMs: 5_001, batches: [], busyTasks: [], tasks: 0 });
  });

  it('says at debug level that it runs, and what stands still at most once per threshold', () => {
    const w = watch();
    w.report();
    expect(lines.map((l) => l.msg)).toEqual(['application alive']);
    now += 6_000;
    w.report();
    now += 1_000;
    w.report();
    expect(lines.map((l) => l.msg)).toEqual(['application alive', 'application stands still']);
  });

  it('warns once a stall has lasted warnAfterMs, even with debug off', () => {
    const w = watch('info');
    now += 6_000;
    w.report();
    expect(lines).toEqual([]);
    now += 60_000;
    w.report();
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe(40);
  });
});
