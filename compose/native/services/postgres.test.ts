import { passwordsForHostConnections } from './postgres.ts';

describe('passwordsForHostConnections', () => {
  it("makes every host line's trust scram-sha-256 and leaves local lines and comments alone", () => {
    const hba = [
      '# TYPE  DATABASE        USER            ADDRESS                 METHOD',
      '# "host ... trust" in a comment stays',
      'local   all             all                                     trust',
      'host    all             all             127.0.0.1/32            trust',
      '',
      'host    replication     all             ::1/128                 trust  ',
      'hostssl all             all             0.0.0.0/0               md5',
      '',
    ].join('\n');
    expect(passwordsForHostConnections(hba).split('\n')).toEqual([
      '# TYPE  DATABASE        USER            ADDRESS                 METHOD',
      '# "host ... trust" in a comment stays',
      'local   all             all                                     trust',
      'host    all             all             127.0.0.1/32            scram-sha-256',
      '',
      'host    replication     all             ::1/128                 scram-sha-256',
      'hostssl all             all             0.0.0.0/0               md5',
      '',
    ]);
    const hardened = passwordsForHostConnections(hba);
    expect(passwordsForHostConnections(hardened)).toBe(hardened);
  });
});
