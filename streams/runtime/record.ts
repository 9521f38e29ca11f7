// A record as processors see it (after deserialization), and as it is on the wire.
import type { RecordHeaders } from './kafka-port.ts';

export interface StreamRecord<K, V> {
  key: K;
  value: V;
  /** Event time (ms): the record's timestamp, which processors may rewrite when they forward. */
  timestamp: number;
  headers?: RecordHeaders;
}

/** Bytes as consumed from or produced to Kafka. */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: RecordHeaders;
}

/** Where the record being processed came from. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: string;
}
