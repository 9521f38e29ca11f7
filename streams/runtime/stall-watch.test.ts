import { StallWatch, type TaskView } from './stall-watch.ts';

describe('StallWatch', () => {
  let now = 0;
  const watch = () => new StallWatch(() => now);
  const task = (over: Partial<TaskView> = {}): TaskView => ({
    partition: 0,
    state: 'running',
    busySince: undefined,
    busyWith: undefined,
    openRecords: undefined,
    ...over,
  });

  beforeEach(() => {
    now = 1_000;
  });

  it('reports nothing while fetches complete and nothing is held', () => {
    const w = watch();
    w.fetched();
    const id = w.begin('in', 0);
    now += 4_000;
    w.done(id);
    w.fetched();
    expect(w.stall([task()], 5_000)).toBeUndefined();
  });

  it('names a batch held past the threshold and the stage it waits in', () => {
    const w = watch();
    w.fetched();
    const id = w.begin('in', 3);
    now += 1_000;
    w.stage(id, 'lock');
    now += 6_000;
    const stall = w.stall([task({ partition: 3 })], 5_000);
    expect(stall?.batches).toEqual([
      { topic: 'in', partition: 3, stage: 'lock', ms: 7_000, stageMs: 6_000 },
    ]);
    expect(stall?.sinceFetchMs).toBe(7_000);
  });

  it('names a task whose lock one work holds past the threshold', () => {
    const w = watch();
    w.fetched();
    const busy = task({ partition: 2, busySince: now, busyWith: 'timed-commit' });
    now += 5_001;
    w.fetched();
    expect(w.stall([busy, task()], 5_000)?.busyTasks).toEqual([
      { partition: 2, state: 'running', busyWith: 'timed-commit', ms: 5_001 },
    ]);
  });

  it('tells the time since the last fetch, none before the first', () => {
    const w = watch();
    expect(w.sinceFetchMs()).toBeUndefined();
    w.fetched();
    now += 250;
    expect(w.sinceFetchMs()).toBe(250);
  });

  it('reports a consumer that has not fetched for longer than the threshold', () => {
    const w = watch();
    w.fetched();
    now += 5_001;
    expect(w.stall([], 5_000)).toEqual({
      sinceFetchMs: 5_001,
      batches: [],
      busyTasks: [],
      tasks: 0,
    });
  });
});
