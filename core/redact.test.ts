import { MASK, redactUrl, redactVariable } from './redact.ts';

describe('redacting secrets for printing', () => {
  it("masks a URL's password and keeps the rest", () => {
    expect(redactUrl('postgres://continuum:s3cr%40t@127.0.0.1:5432/continuum')).toBe(
      `postgres://continuum:${MASK}@127.0.0.1:5432/continuum`,
    );
    expect(redactUrl('redis://:hunter2@127.0.0.1:6379')).toBe(`redis://:${MASK}@127.0.0.1:6379`);
    expect(redactUrl('mongodb://token@h1:27017,h2:27017/db')).toBe(
      `mongodb://${MASK}@h1:27017,h2:27017/db`,
    );
  });

  it('leaves URLs without credentials and plain values alone', () => {
    expect(redactUrl('http://127.0.0.1:8081/apis/ccompat/v7')).toBe(
      'http://127.0.0.1:8081/apis/ccompat/v7',
    );
    expect(redactUrl('127.0.0.1:9092')).toBe('127.0.0.1:9092');
    expect(redactUrl('user@example.com')).toBe('user@example.com');
  });

  it('masks the whole value of a variable that holds keys, passwords or tokens', () => {
    expect(redactVariable('CONTINUUM_API_KEYS', 'ops:admin:sha256:abcd')).toBe(MASK);
    expect(redactVariable('CONTINUUM_POSTGRES_PASSWORD', 'x')).toBe(MASK);
    expect(redactVariable('CONTINUUM_API_KEYS', '')).toBe('');
    expect(redactVariable('CONTINUUM_REDIS_URL', 'redis://:pw@h:1')).toBe(`redis://:${MASK}@h:1`);
    expect(redactVariable('CONTINUUM_API_PORT', '8080')).toBe('8080');
  });
});
