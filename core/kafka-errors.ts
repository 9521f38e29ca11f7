// What a Kafka client's error means for the caller, decided once: worth retrying (a leader
// moved, the broker is restarting), a record no retry can write (too large for the topic), or
// a refusal no retry can change (authorization, an invalid topic or record). kafkajs wraps the
// broker's error in its own (a non-retriable or retries-exhausted error whose cause is the
// protocol error), so the cause chain is searched for the protocol error's type.

/** The broker refuses this record (or batch) for its size: split the batch, or fail the record. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The broker refuses the request itself: the principal, the topic or the record is wrong. */
const REFUSED = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_RECORD',
  'INVALID_REQUIRED_ACKS',
  'INVALID_TIMESTAMP',
  'POLICY_VIOLATION',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
]);

export type KafkaFailure =
  /** Retry with backoff: it may pass. */
  | 'transient'
  /** This record can never be written to this topic. */
  | 'too-large'
  /** No request of this kind will succeed until someone changes a setting. */
  | 'refused';

/** The Kafka protocol error type (e.g. MESSAGE_TOO_LARGE) in an error or its causes. */
export function kafkaErrorType(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { type, cause, originalError } = current as {
      type?: unknown;
      cause?: unknown;
      originalError?: unknown;
    };
    if (typeof type === 'string') return type;
    current = cause ?? originalError;
  }
  return undefined;
}

export function classifyKafkaError(err: unknown): KafkaFailure {
  const type = kafkaErrorType(err);
  if (type === undefined) return 'transient';
  if (TOO_LARGE.has(type)) return 'too-large';
  if (REFUSED.has(type)) return 'refused';
  return 'transient';
}
