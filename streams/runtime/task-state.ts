// A task's lifecycle as data (Kafka Streams' Task.State, kafkajs' transactionStateMachine.js):
// the states a partition task goes through in the TaskManager and the moves allowed between
// them, so a close after a discard (or any other move the runtime never meant) fails loudly.
import { ContinuumError } from '../../core/errors.ts';

/**
 * - `created`: the StreamTask exists; its producer (exactly-once) is being initialized, which
 *   fences earlier owners of the partition.
 * - `restoring`: its stores are being restored from their changelogs.
 * - `running`: it processes batches and punctuations, committing as it goes.
 * - `closing`: it leaves (partition moved, membership lost, application stopping): its open work
 *   is committed or dropped.
 * - `closed`: its stores and producer are closed (also a creation that failed part way).
 * - `discarded`: dropped after a failed transaction (its producer may be fenced); the partition
 *   gets a new task, restored afresh.
 */
export type TaskState = 'created' | 'restoring' | 'running' | 'closing' | 'closed' | 'discarded';

export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  created: ['restoring', 'closed'],
  restoring: ['running', 'closed'],
  running: ['closing', 'discarded'],
  closing: ['closed'],
  closed: [],
  discarded: [],
};

/** A task was asked to move to a state its current one does not lead to. */
export class TaskStateError extends ContinuumError {
  override readonly code = 'TASK_STATE_INVALID';
  readonly from: TaskState;
  readonly to: TaskState;

  constructor(partition: number, from: TaskState, to: TaskState) {
    super(`task ${partition} cannot go from ${from} to ${to}`, {
      context: { partition, from, to },
    });
    this.from = from;
    this.to = to;
  }
}

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

/** The state `to`, if `from` leads to it; else a TaskStateError. */
export function transition(partition: number, from: TaskState, to: TaskState): TaskState {
  if (!canTransition(from, to)) throw new TaskStateError(partition, from, to);
  return to;
}
