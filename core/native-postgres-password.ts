// The native stack's PostgreSQL password: generated once into the state folder (mode 0600),
// instead of trusting every local connection. Every process that uses the default
// CONTINUUM_POSTGRES_URL reads it from there (core/config.ts), so the stack, the platform's
// processes, the CLI and the tests agree on it without anyone typing it; a URL set in the
// environment (docker-compose, a managed server) is used as it is.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import nodePath from 'node:path';

/** Where the password lives: beside the stack's PostgreSQL data, never in the repository. */
export function nativePostgresPasswordFile(stateDir: string): string {
  return nodePath.join(stateDir, 'postgres', 'password');
}

/** The password, generated (URL-safe, 32 characters) by whichever process needs it first. */
export function nativePostgresPassword(stateDir: string): string {
  const file = nativePostgresPasswordFile(stateDir);
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored !== '') return stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(nodePath.dirname(file), { recursive: true });
  const generated = randomBytes(24).toString('base64url');
  try {
    // `wx`: of two processes starting at once, one writes and both read what it wrote.
    writeFileSync(file, `${generated}\n`, { flag: 'wx', mode: 0o600 });
    return generated;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(file, 'utf8').trim();
  }
}

/** `url` with `password` as its password, unless it names one already. */
export function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') return url;
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
