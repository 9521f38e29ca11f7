// The sink contract (after quix-streams): `add` per record, `flush` per checkpoint; the runner
// commits input offsets only after a flush succeeded, so a crash replays at most the records of
// one unflushed checkpoint and idempotent sinks make that replay harmless.

export interface SinkRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** Broker timestamp (ms) of the record. */
  timestamp: number;
}

export interface Sink<T> {
  readonly name: string;
  /** Buffers one decoded record; must not do I/O per record. */
  add(record: SinkRecord<T>): void;
  /** Writes everything added since the last flush; throws a SinkWriteError when it cannot. */
  flush(): Promise<{ written: number }>;
  close(): Promise<void>;
}
