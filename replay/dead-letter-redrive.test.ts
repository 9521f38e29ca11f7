import { DLQ_HEADERS } from '../core/dead-letter.ts';
import { matchesRedrive, reasonOf, redrivenRecord, REDRIVE_HEADER } from './dead-letter-redrive.ts';

const letter = (reason: string | undefined, failedAt: number) => ({
  ...(reason === undefined ? {} : { [DLQ_HEADERS.reason]: Buffer.from(reason) }),
  [DLQ_HEADERS.errorCode]: Buffer.from('EVENT_REJECTED'),
  [DLQ_HEADERS.failedAt]: Buffer.from(String(failedAt)),
  [DLQ_HEADERS.topic]: Buffer.from('telemetry.raw'),
  'producer.trace': Buffer.from('t1'),
});

describe('dead-letter re-drive rules', () => {
  it('files a letter under its reason, else its error code', () => {
    expect(reasonOf(letter('late', 1))).toBe('late');
    expect(reasonOf(letter(undefined, 1))).toBe('EVENT_REJECTED');
  });

  it('matches by reason and by failure time [from, until)', () => {
    const request = { topic: 't', reasons: ['late'], failedFrom: 10, failedUntil: 20 };
    expect(matchesRedrive(letter('late', 10), request)).toBe(true);
    expect(matchesRedrive(letter('late', 20), request)).toBe(false);
    expect(matchesRedrive(letter('gps-jump', 15), request)).toBe(false);
    expect(matchesRedrive(letter('gps-jump', 15), { topic: 't' })).toBe(true);
  });

  it('re-sends key, bytes and the producer’s headers, without the DLQ context', () => {
    const record = redrivenRecord(
      {
        key: Buffer.from('VEH-1'),
        value: Buffer.from('bytes'),
        headers: letter('late', 1),
      } as never,
      'telemetry.raw.dlq/0/7',
    );
    expect(Object.keys(record.headers).sort()).toEqual([REDRIVE_HEADER, 'producer.trace']);
    expect(record.value?.toString()).toBe('bytes');
  });
});
