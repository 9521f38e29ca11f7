// Random names for topics, tables, keys and collections, so test reruns and parallel workers
// never collide and nothing depends on what an earlier run left behind.
import { randomBytes } from 'node:crypto';

/**
 * `prefix`, `separator`, then a lowercase alphanumeric suffix (time in base 36 + 6 random
 * bytes in hex). The suffix alone is a valid SQL identifier, Kafka topic, Redis key and
 * MongoDB collection part, so callers only pick a separator their target accepts
 * (`uniqueName('test', '.')` for topics, `uniqueName('test_orders', '_')` for tables).
 */
export function uniqueName(prefix: string, separator = '-'): string {
  return `${prefix}${separator}${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}
