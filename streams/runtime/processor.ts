// The Processor API, after Kafka Streams': a processor is init / process / close, reads and
// writes its task's state stores, forwards records downstream, and schedules punctuations.
// Processors hold domain logic only; they never see Kafka, bytes or transactions.
import { ContinuumError } from '../../core/errors.ts';
import type { KeyValueStore, ReadOnlyKeyValueStore } from './state-store.ts';
import type { RecordMetadata, StreamRecord } from './record.ts';
import type { VersionedKeyValueStore } from './versioned-store.ts';

export type PunctuationType = 'stream-time' | 'wall-clock';

export interface Cancellable {
  cancel(): void;
}

export interface ProcessorContext<KOut, VOut> {
  /** Sends a record to every child (or only to `childName`). */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  getStateStore<K, V>(name: string): KeyValueStore<K, V>;
  /** A versioned store (declared with `versioned` in its StoreSpec). */
  getVersionedStore<K, V>(name: string): VersionedKeyValueStore<K, V>;
  /** A global store (the whole of a topic, shared by every task of the instance): read-only. */
  getGlobalStore<K, V>(name: string): ReadOnlyKeyValueStore<K, V>;
  /** Calls `punctuator` every `intervalMs` of stream time (advanced by records) or wall-clock time. */
  schedule(
    intervalMs: number,
    type: PunctuationType,
    punctuator: (timestamp: number) => void,
  ): Cancellable;
  /** The input record being processed (absent inside a punctuation). */
  readonly recordMetadata: RecordMetadata | undefined;
  /** Highest record timestamp this task has seen: event time, never going backwards. */
  readonly streamTime: number;
  /** Wall-clock time (Kafka Streams' currentSystemTimeMs): the driver's clock in tests. */
  currentSystemTimeMs(): number;
  readonly partition: number;
  readonly applicationId: string;
}

export interface Processor<KIn, VIn, KOut = KIn, VOut = VIn> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void;
}

/** What to do when processing a record throws: skip it, dead-letter it, or stop the task. */
export type ProcessingErrorPolicy = 'continue' | 'dead-letter' | 'fail';

export type ProcessingErrorHandler = (
  error: unknown,
  record: StreamRecord<unknown, unknown>,
  metadata: RecordMetadata,
) => ProcessingErrorPolicy;

/**
 * A record a processor refuses for a domain reason (impossible transition, out-of-range value,
 * too late): dead-lettered with `reason` by the default handler.
 */
export class RecordRejectedError extends ContinuumError {
  override readonly code: string = 'RECORD_REJECTED';
  readonly reason: string;

  constructor(reason: string, message: string, context: Record<string, unknown> = {}) {
    super(message, { context: { ...context, reason } });
    this.reason = reason;
  }
}

/** Default: rejections go to the DLQ; anything else is a bug or an outage and stops the task. */
export const defaultProcessingErrorHandler: ProcessingErrorHandler = (error) =>
  error instanceof RecordRejectedError ? 'dead-letter' : 'fail';
