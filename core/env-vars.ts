// Parsers for environment variables: each returns a value or throws a message that says what
// would be valid. Kept apart from the variable table so both stay small.
import { z } from 'zod';

export type EnvParser<T> = (raw: string) => T;

function fromZod<T>(schema: z.ZodType<T>, expectation: string): EnvParser<T> {
  return (raw) => {
    const result = schema.safeParse(raw);
    if (!result.success) throw new Error(`expected ${expectation}`);
    return result.data;
  };
}

export const port: EnvParser<number> = fromZod(
  z.coerce.number().int().min(1).max(65_535),
  'a TCP port number from 1 to 65535',
);

export function integer(min: number, max: number): EnvParser<number> {
  return fromZod(z.coerce.number().int().min(min).max(max), `a whole number from ${min} to ${max}`);
}

export const text: EnvParser<string> = fromZod(z.string().trim().min(1), 'a non-empty string');

export const topicName: EnvParser<string> = fromZod(
  z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/),
  'a Kafka topic name (letters, digits, ".", "_", "-"; at most 249 characters)',
);

export function url(protocols: readonly string[]): EnvParser<string> {
  return (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`expected a URL such as ${protocols[0]}//127.0.0.1:1234`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new Error(
        `expected a URL with scheme ${protocols.map((p) => p.replace(':', '')).join(' or ')}`,
      );
    }
    return raw.replace(/\/+$/, '');
  };
}

export const hostPortList: EnvParser<string[]> = (raw) => {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('expected a comma-separated list of host:port');
  for (const entry of entries) {
    const m = /^([^:\s]+):(\d{1,5})$/.exec(entry);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65_535) {
      throw new Error(`expected a comma-separated list of host:port, got "${entry}"`);
    }
  }
  return entries;
};

export function oneOf<const T extends string>(values: readonly T[]): EnvParser<T> {
  return (raw) => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new Error(`expected one of ${values.join(', ')}`);
  };
}

export const boolean: EnvParser<boolean> = (raw) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error('expected true or false');
};

export const path: EnvParser<string> = text;

export const sqlIdentifier: EnvParser<string> = fromZod(
  z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/),
  'a PostgreSQL identifier (letters, digits and _, not starting with a digit, at most 63 characters)',
);

export const slotName: EnvParser<string> = fromZod(
  z.string().regex(/^[a-z0-9_]{1,63}$/),
  'a replication slot name (lower-case letters, digits and _, at most 63 characters)',
);

export function decimal(min: number, max: number): EnvParser<number> {
  return fromZod(z.coerce.number().min(min).max(max), `a number from ${min} to ${max}`);
}

/** A comma-separated, non-empty list of distinct values among `values`. */
export function listOf<const T extends string>(values: readonly T[]): EnvParser<T[]> {
  return (raw) => {
    const items = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = items.filter((i) => !(values as readonly string[]).includes(i));
    if (items.length === 0 || unknown.length > 0)
      throw new Error(`expected a comma-separated list of ${values.join(', ')}`);
    return [...new Set(items)] as T[];
  };
}
