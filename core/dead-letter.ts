// Dead letters: the original key, bytes and headers of a rejected record plus why, in headers
// named like Kafka Connect's DLQ context headers, so nothing is dropped silently. Like
// Connect's, a dead letter is stamped with the time it was written (failedAt), not the
// record's own time, which a header keeps: a DLQ's time retention then counts from the
// failure, and a replayed or simulated past is not deleted before anyone looked at it.
import type { IHeaders } from 'kafkajs';

export const DLQ_HEADERS = {
  errorClass: 'continuum.error.class',
  errorCode: 'continuum.error.code',
  errorMessage: 'continuum.error.message',
  /** A domain reason code, when the error carries one (e.g. impossible-transition, late, gps-jump). */
  reason: 'continuum.error.reason',
  stage: 'continuum.error.stage',
  processor: 'continuum.error.processor',
  topic: 'continuum.source.topic',
  partition: 'continuum.source.partition',
  offset: 'continuum.source.offset',
  /** The rejected record's own timestamp (ms); the dead letter is stamped with failedAt. */
  timestamp: 'continuum.source.timestamp',
  failedAt: 'continuum.error.timestamp',
} as const;

export interface RejectedRecord {
  topic: string;
  partition: number;
  offset: string;
  /** The record's timestamp (ms), kept in a header. */
  timestamp?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export interface RejectionReason {
  error: unknown;
  /** Where it failed: decode, validate, process, sink. */
  stage: string;
  /** Which processor or sink rejected it. */
  processor: string;
}

export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Why a dead letter was written, as the `reason` label of continuum_dlq_records_total: the
 * error's domain reason (late, gps-jump, …), else its code (decode-failed, …), else its class.
 */
export function deadLetterReason(letter: DeadLetter): string {
  const header = (name: string): string => {
    const value = letter.headers[name];
    return Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : '';
  };
  const reason = header(DLQ_HEADERS.reason) || header(DLQ_HEADERS.errorCode);
  return (reason || header(DLQ_HEADERS.errorClass) || 'unknown').toLowerCase().replaceAll('_', '-');
}

export function deadLetter(
  record: RejectedRecord,
  reason: RejectionReason,
  now = Date.now(),
): DeadLetter {
  const err = reason.error;
  const errorClass = err instanceof Error ? err.constructor.name : typeof err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : String(err);
  const reasonCode =
    typeof err === 'object' && err !== null && 'reason' in err && typeof err.reason === 'string'
      ? err.reason
      : undefined;
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.errorClass]: errorClass,
      [DLQ_HEADERS.errorCode]: code,
      // Headers are not for essays; the first 2 KB say what went wrong.
      [DLQ_HEADERS.errorMessage]: message.slice(0, 2048),
      ...(reasonCode === undefined ? {} : { [DLQ_HEADERS.reason]: reasonCode }),
      [DLQ_HEADERS.stage]: reason.stage,
      [DLQ_HEADERS.processor]: reason.processor,
      [DLQ_HEADERS.topic]: record.topic,
      [DLQ_HEADERS.partition]: String(record.partition),
      [DLQ_HEADERS.offset]: record.offset,
      ...(record.timestamp === undefined
        ? {}
        : { [DLQ_HEADERS.timestamp]: String(record.timestamp) }),
      [DLQ_HEADERS.failedAt]: String(now),
    },
  };
}
