// A record as processors see it (after deserialization), and as it is on the wire.
import type { IHeaders } from 'kafkajs';

export interface StreamRecord<K, V> {
  key: K;
  value: V;
  /** Event time (ms): the record's timestamp, which processors may rewrite when they forward. */
  timestamp: number;
  headers?: IHeaders;
}

/** Bytes as consumed from or produced to Kafka. */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: IHeaders;
}

/** Where the record being processed came from. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: string;
}
