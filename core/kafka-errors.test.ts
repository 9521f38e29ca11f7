import {
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { classifyKafkaError, kafkaErrorType } from './kafka-errors.ts';

/** The broker's error as kafkajs builds it from a response's error code. */
function protocolError(type: string, retriable: boolean): KafkaJSProtocolError {
  return new KafkaJSProtocolError({ type, code: 0, retriable, message: `${type} (test)` } as never);
}

describe('classifyKafkaError', () => {
  it('finds the broker error type behind kafkajs wrappers', () => {
    const tooLarge = protocolError('MESSAGE_TOO_LARGE', false);
    // As kafkajs's retrier bails on a non-retriable error (its types omit the second argument).
    const NonRetriable = KafkaJSNonRetriableError as unknown as new (
      e: Error,
      options: { cause: Error },
    ) => Error;
    const wrapped = new NonRetriable(tooLarge, { cause: tooLarge });
    expect(kafkaErrorType(wrapped)).toBe('MESSAGE_TOO_LARGE');
    expect(classifyKafkaError(wrapped)).toBe('too-large');
    const exhausted = new KafkaJSNumberOfRetriesExceeded(
      protocolError('TOPIC_AUTHORIZATION_FAILED', false),
      { retryCount: 5, retryTime: 1000 },
    );
    expect(classifyKafkaError(exhausted)).toBe('refused');
  });

  it('retries what may pass: leader moves, timeouts, unknown errors', () => {
    expect(classifyKafkaError(protocolError('NOT_LEADER_FOR_PARTITION', true))).toBe('transient');
    expect(classifyKafkaError(protocolError('REQUEST_TIMED_OUT', true))).toBe('transient');
    expect(classifyKafkaError(new Error('Connection error: ECONNREFUSED'))).toBe('transient');
    expect(classifyKafkaError('a string')).toBe('transient');
  });

  it('survives a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b') as Error & { cause?: unknown };
    a.cause = b;
    b.cause = a;
    expect(kafkaErrorType(a)).toBeUndefined();
  });
});
