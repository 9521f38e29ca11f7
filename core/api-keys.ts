// API keys: how they are written in CONTINUUM_API_KEYS, generated, hashed and checked. A key is
// 32 random bytes, so one SHA-256 of it is as good as a slow hash (nothing to brute-force);
// only the hash is kept in memory, and comparisons run in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_SCOPES = ['read', 'ingest', 'replay', 'ml', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKeyEntry {
  /** Who holds the key (logs, rate-limit bucket, the `name` of the entry). */
  name: string;
  scopes: readonly ApiScope[];
  /** SHA-256 of the key, hex (plain data, so the frozen Config can hold it). */
  sha256: string;
  /** Requests per minute allowed for this key; undefined = CONTINUUM_API_RATE_LIMIT_PER_MINUTE. */
  rateLimitPerMinute?: number;
}

const KEY_PREFIX = 'ck_';
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SHA256_HEX = /^sha256:([0-9a-f]{64})$/;

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** A new key: `ck_` + 32 random bytes in base64url (43 characters). */
export function generateApiKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The CONTINUUM_API_KEYS entry for a key, holding only its hash. */
export function apiKeyEntryText(name: string, scopes: readonly ApiScope[], key: string): string {
  return `${name}:${scopes.join(',')}:sha256:${hashApiKey(key).toString('hex')}`;
}

/**
 * Parses `name:scope[,scope…]:secret[:requests-per-minute]` entries separated by `;`. The
 * secret is `sha256:<64 hex digits>` (the hash of the key; the key itself never has to be in
 * the environment) or, for local use, the key itself (at least 24 characters), hashed here.
 */
export function parseApiKeys(raw: string): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  for (const text of raw
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name = '', scopeList = '', ...rest] = text.split(':');
    // `sha256:<hex>` itself holds a colon; a trailing number is the rate limit.
    const last = rest.at(-1);
    const limited = rest.length > 1 && /^\d+$/.test(last ?? '') && !SHA256_HEX.test(rest.join(':'));
    const secret = (limited ? rest.slice(0, -1) : rest).join(':');
    const shown = `"${name}:${scopeList}:…"`;
    if (!NAME.test(name))
      throw new Error(
        `expected name:scopes:secret entries separated by ";"; the name of ${shown} must be lower-case letters, digits, ".", "_" or "-"`,
      );
    if (entries.some((e) => e.name === name))
      throw new Error(`the key name "${name}" is used twice`);
    const scopes = scopeList.split(',').map((s) => s.trim());
    const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length > 0)
      throw new Error(`scopes of ${shown} must be among ${API_SCOPES.join(', ')}`);
    const hex = SHA256_HEX.exec(secret)?.[1];
    if (hex === undefined && secret.length < 24)
      throw new Error(
        `the secret of ${shown} must be sha256:<64 hex digits> or a key of at least 24 characters (\`continuum api keygen\` makes one)`,
      );
    const entry: ApiKeyEntry = {
      name,
      scopes: [...new Set(scopes)] as ApiScope[],
      sha256: hex ?? hashApiKey(secret).toString('hex'),
    };
    if (limited) {
      const perMinute = Number(last);
      if (perMinute < 1) throw new Error(`the rate limit of ${shown} must be at least 1`);
      entry.rateLimitPerMinute = perMinute;
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * The entry whose hash matches the presented key. Every entry is compared (constant time each),
 * so how long this takes says nothing about which entry, or how much of it, matched.
 */
export function findApiKey(
  entries: readonly ApiKeyEntry[],
  presented: string,
): ApiKeyEntry | undefined {
  const hash = hashApiKey(presented);
  let found: ApiKeyEntry | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(Buffer.from(entry.sha256, 'hex'), hash) && found === undefined)
      found = entry;
  }
  return found;
}

/** Whether a key with `scopes` may do what `needed` allows; `admin` may do everything. */
export function hasScope(scopes: readonly ApiScope[], needed: ApiScope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}
