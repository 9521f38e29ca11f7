import { DecodeError } from './errors.ts';
import { DLQ_HEADERS, deadLetter, deadLetterReason } from './dead-letter.ts';

describe('deadLetter', () => {
  it('keeps the original key, bytes and headers and adds why, where and from which offset', () => {
    const letter = deadLetter(
      {
        topic: 'telemetry.raw',
        partition: 3,
        offset: '42',
        timestamp: 1_767_589_200_000,
        key: Buffer.from('VEH-1'),
        value: Buffer.from([1, 2, 3]),
        headers: { trace: 'abc' },
      },
      {
        error: new DecodeError('unknown magic byte 0x01'),
        stage: 'decode',
        processor: 'sink.mongodb',
      },
      1_000,
    );
    expect(letter.key?.toString()).toBe('VEH-1');
    expect([...(letter.value ?? [])]).toEqual([1, 2, 3]);
    expect(letter.headers).toEqual({
      trace: 'abc',
      [DLQ_HEADERS.errorClass]: 'DecodeError',
      [DLQ_HEADERS.errorCode]: 'DECODE_FAILED',
      [DLQ_HEADERS.errorMessage]: 'unknown magic byte 0x01',
      [DLQ_HEADERS.stage]: 'decode',
      [DLQ_HEADERS.processor]: 'sink.mongodb',
      [DLQ_HEADERS.topic]: 'telemetry.raw',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.timestamp]: '1767589200000',
      [DLQ_HEADERS.failedAt]: '1000',
    });
  });

  it('carries the domain reason of a rejection in its own header', () => {
    const rejection = Object.assign(new Error('SHP-1: DELIVERED → IN_TRANSIT is not allowed'), {
      reason: 'impossible-transition',
    });
    const letter = deadLetter(
      { topic: 'shipments.cdc', partition: 0, offset: '7', key: null, value: null },
      { error: rejection, stage: 'process', processor: 'p' },
    );
    expect(letter.headers[DLQ_HEADERS.reason]).toBe('impossible-transition');
  });

  it('describes a non-Error rejection and truncates long messages', () => {
    const letter = deadLetter(
      { topic: 't', partition: 0, offset: '0', key: null, value: null },
      { error: 'x'.repeat(5000), stage: 'process', processor: 'p' },
    );
    expect(letter.headers[DLQ_HEADERS.errorClass]).toBe('string');
    expect(String(letter.headers[DLQ_HEADERS.errorMessage])).toHaveLength(2048);
  });

  it('names its reason for the metrics: the domain reason, else the error code, else the class', () => {
    const record = { topic: 't', partition: 0, offset: '1', key: null, value: null };
    const why = (error: unknown): string =>
      deadLetterReason(deadLetter(record, { error, stage: 'process', processor: 'p' }));
    expect(why(Object.assign(new Error('too late'), { reason: 'late' }))).toBe('late');
    expect(why(new DecodeError('bad bytes'))).toBe('decode-failed');
    expect(why(new RangeError('no'))).toBe('rangeerror');
    expect(why('a string')).toBe('string');
  });
});
