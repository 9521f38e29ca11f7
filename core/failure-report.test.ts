import { ContinuumError } from './errors.ts';
import { failureMessage, failureReport, nextStep } from './failure-report.ts';

describe('failure report', () => {
  it('follows the causes a wrapper holds, each message once', () => {
    const root = new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string');
    const wrapped = new ContinuumError('creating the shipments tables failed', { cause: root });
    expect(failureMessage(wrapped)).toBe(
      'creating the shipments tables failed: SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string',
    );
    // A wrapper that already quotes its cause does not repeat it.
    const quoting = new ContinuumError(`GET /x: ${root.message}`, { cause: root });
    expect(failureMessage(quoting)).toBe(quoting.message);
    expect(failureMessage('plain text')).toBe('plain text');
  });

  it('names the next step for a PostgreSQL URL without its password', () => {
    const wrapped = new ContinuumError('seed failed', {
      cause: new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'),
    });
    expect(nextStep(wrapped)).toMatch(/CONTINUUM_POSTGRES_URL names none/);
    expect(failureReport(wrapped)).toMatch(/\n {2}next: PostgreSQL asks for a password/);
  });

  it('names the next step for a refused password and for nothing listening', () => {
    const refused = Object.assign(new Error('password authentication failed for user "x"'), {
      code: '28P01',
    });
    expect(nextStep(new ContinuumError('query failed', { cause: refused }))).toMatch(
      /refused the user or password/,
    );
    // Node's connect gives an AggregateError of one ECONNREFUSED per address tried.
    const down = new AggregateError(
      [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
          code: 'ECONNREFUSED',
          address: '127.0.0.1',
          port: 5432,
        }),
      ],
      '',
    );
    const wrapped = new ContinuumError('creating the shipments tables failed', { cause: down });
    expect(failureReport(wrapped)).toBe(
      'creating the shipments tables failed: connect ECONNREFUSED 127.0.0.1:5432\n' +
        '  next: nothing listens at 127.0.0.1:5432: start the local stack (`npx continuum stack up`, `npx continuum stack status` shows what runs), or point the CONTINUUM_*_URL variables at services that run',
    );
  });

  it('says nothing more where the cause is not one it knows', () => {
    expect(failureReport(new Error('boom'))).toBe('boom');
    expect(nextStep(new Error('boom'))).toBeUndefined();
  });
});
