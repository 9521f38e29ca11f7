import {
  apiKeyEntryText,
  findApiKey,
  generateApiKey,
  hashApiKey,
  hasScope,
  parseApiKeys,
} from './api-keys.ts';

describe('API keys', () => {
  it('parses hashed entries, keeps only the hash of a plain key, and reads a per-key limit', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^ck_[A-Za-z0-9_-]{43}$/);
    const entries = parseApiKeys(
      `${apiKeyEntryText('ops', ['read', 'replay'], key)}:600; sim:ingest:${'p'.repeat(30)}`,
    );
    expect(entries).toEqual([
      {
        name: 'ops',
        scopes: ['read', 'replay'],
        sha256: hashApiKey(key).toString('hex'),
        rateLimitPerMinute: 600,
      },
      { name: 'sim', scopes: ['ingest'], sha256: hashApiKey('p'.repeat(30)).toString('hex') },
    ]);
    expect(JSON.stringify(entries)).not.toContain('p'.repeat(30));
    expect(parseApiKeys('')).toEqual([]);
  });

  it('refuses bad names, unknown scopes, short secrets and repeated names', () => {
    expect(() => parseApiKeys('Ops:read:sha256:' + '0'.repeat(64))).toThrow(/name/);
    expect(() => parseApiKeys('ops:write:sha256:' + '0'.repeat(64))).toThrow(/scopes/);
    expect(() => parseApiKeys('ops:read:short')).toThrow(/secret/);
    expect(() => parseApiKeys(`a:read:${'x'.repeat(24)};a:read:${'y'.repeat(24)}`)).toThrow(
      /twice/,
    );
  });

  it('finds the entry of a presented key, and none for another', () => {
    const key = generateApiKey();
    const entries = parseApiKeys(
      `${apiKeyEntryText('a', ['read'], generateApiKey())};${apiKeyEntryText('b', ['ingest'], key)}`,
    );
    expect(findApiKey(entries, key)?.name).toBe('b');
    expect(findApiKey(entries, `${key}x`)).toBeUndefined();
  });

  it('lets admin do everything and other scopes only their own', () => {
    expect(hasScope(['admin'], 'replay')).toBe(true);
    expect(hasScope(['read'], 'ingest')).toBe(false);
    expect(hasScope(['ingest', 'read'], 'read')).toBe(true);
  });
});
