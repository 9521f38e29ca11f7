// The task lifecycle table: the moves the TaskManager makes are allowed, every other is refused
// with a TaskStateError naming both states.
import {
  canTransition,
  TASK_TRANSITIONS,
  TaskStateError,
  transition,
  type TaskState,
} from './task-state.ts';

const STATES = Object.keys(TASK_TRANSITIONS) as TaskState[];

const ALLOWED: readonly (readonly [TaskState, TaskState])[] = [
  ['created', 'restoring'], // producer initialized (fenced earlier owners)
  ['created', 'closed'], // producer init failed
  ['restoring', 'running'], // stores restored
  ['restoring', 'closed'], // restore failed
  ['running', 'closing'], // partition moved, membership lost, application stopping
  ['running', 'discarded'], // its transaction failed
  ['closing', 'closed'],
];

describe('task states', () => {
  it.each(ALLOWED)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(transition(3, from, to)).toBe(to);
  });

  const refused = STATES.flatMap((from) =>
    STATES.filter((to) => !ALLOWED.some(([f, t]) => f === from && t === to)).map(
      (to) => [from, to] as const,
    ),
  );

  it.each(refused)('refuses %s → %s with a TaskStateError', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let thrown: unknown;
    try {
      transition(3, from, to);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TaskStateError);
    const error = thrown as TaskStateError;
    expect(error.code).toBe('TASK_STATE_INVALID');
    expect(error.from).toBe(from);
    expect(error.to).toBe(to);
    expect(error.context).toEqual({ partition: 3, from, to });
  });

  it('ends in closed or discarded, which lead nowhere', () => {
    expect(TASK_TRANSITIONS.closed).toEqual([]);
    expect(TASK_TRANSITIONS.discarded).toEqual([]);
    // Every state reaches an end: no task can be left running for want of a move.
    const reachesEnd = (state: TaskState, seen = new Set<TaskState>()): boolean =>
      TASK_TRANSITIONS[state].length === 0 ||
      TASK_TRANSITIONS[state].some((next) => !seen.has(next) && reachesEnd(next, seen.add(state)));
    for (const state of STATES) expect(reachesEnd(state)).toBe(true);
  });

  it('refuses closing a task twice', () => {
    expect(() => transition(0, 'closed', 'closing')).toThrow(
      'task 0 cannot go from closed to closing',
    );
    expect(() => transition(0, 'discarded', 'closing')).toThrow(TaskStateError);
  });
});
