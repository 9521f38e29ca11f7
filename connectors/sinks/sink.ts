// The sink contract (after quix-streams): `add` per record, `flush` per checkpoint; the runner
// commits input offsets only after a flush succeeded, so a crash replays at most the records of
// one unflushed checkpoint and idempotent sinks make that replay harmless.
import { ContinuumError } from '../../core/errors.ts';

export interface SinkRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** Broker timestamp (ms) of the record. */
  timestamp: number;
}

/**
 * A decoded record this sink cannot take (a value its store cannot hold): add() throws it, and
 * the runner dead-letters the record (stage `sink`) and goes on. Any other exception from
 * add() is a bug in the sink: the runner stops without committing, instead of hiding it.
 */
export class SinkRecordError extends ContinuumError {
  override readonly code = 'SINK_RECORD_REFUSED';
}

export interface Sink<T> {
  readonly name: string;
  /** Buffers one decoded record; must not do I/O per record; throws SinkRecordError to refuse it. */
  add(record: SinkRecord<T>): void;
  /** Writes everything added since the last flush; throws a SinkWriteError when it cannot. */
  flush(): Promise<{ written: number }>;
  /**
   * Drops everything added since the last flush: the batch failed and is read again from the
   * committed offsets, so keeping it would hold it twice (and a store that stays down would make
   * each retry hold one batch more).
   */
  discard?(): void;
  close(): Promise<void>;
}
