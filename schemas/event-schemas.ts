// The Avro contracts of the platform's topics, loaded from schemas/avro/*.avsc, and the
// registry client that encodes and decodes them in the Confluent wire format.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import nodePath from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Config } from '../core/config.ts';
import { repoRoot } from '../core/paths.ts';

export const SCHEMA_FILES = {
  ShipmentChange: 'shipment-change.avsc',
  VehicleTelemetry: 'vehicle-telemetry.avsc',
  UnifiedShipmentState: 'unified-shipment-state.avsc',
  DeliveryExample: 'delivery-example.avsc',
  EtaModel: 'eta-model.avsc',
} as const;

export type EventSchemaName = keyof typeof SCHEMA_FILES;

export interface AvroSchema {
  type: string;
  name: string;
  namespace?: string;
  doc?: string;
  fields?: unknown[];
}

export function loadAvroSchema(name: EventSchemaName): AvroSchema {
  const file = nodePath.join(repoRoot, 'schemas', 'avro', SCHEMA_FILES[name]);
  return JSON.parse(readFileSync(file, 'utf8')) as AvroSchema;
}

/** Subjects follow the topic-name strategy, as Confluent's default: `<topic>-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

export function createSchemaRegistry(config: Config): SchemaRegistry {
  return new SchemaRegistry({
    host: config.schemaRegistry.url,
    retry: { retries: 5, initialRetryTimeInSecs: 0.2 },
  });
}

/**
 * Registers (or finds) the schema under the topic's value subject and returns its id. Safe when
 * several processes register a new subject at once (the demo's seeder, API and SDK on a fresh
 * stack). The client reads the subject's compatibility, registers, and sets the level only after
 * a first registration, which leaves two races with Apicurio:
 * - two processes both saw no subject and both set the level: all but one get 409 "A rule named
 *   'COMPATIBILITY' already exists";
 * - one process registered and has not set the level yet when another reads it: the second sees
 *   the registry's default level (NONE) and refuses with a compatibility mismatch.
 * Both settle once the first process has set the level, so registration is retried with backoff
 * a few times; a subject that really has another level still fails, with the client's error.
 */
export async function registerValueSchema(
  registry: SchemaRegistry,
  topic: string,
  name: EventSchemaName,
): Promise<number> {
  const schema = { type: SchemaType.AVRO as const, schema: JSON.stringify(loadAvroSchema(name)) };
  const subject = valueSubject(topic);
  for (let attempt = 1; ; attempt++) {
    try {
      return (await registry.register(schema, { subject })).id;
    } catch (err) {
      const racing = isConcurrentFirstConfig(err) || isCompatibilityMismatch(err);
      if (!racing || attempt >= FIRST_CONFIG_ATTEMPTS) throw err;
      await sleep(FIRST_CONFIG_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
}

/** 50 ms doubling to 800 ms: about 1.5 s for another process to set the new subject's level. */
const FIRST_CONFIG_ATTEMPTS = 6;
const FIRST_CONFIG_BACKOFF_MS = 50;

/** The client found the subject at another compatibility level than the one it sets. */
export function isCompatibilityMismatch(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConfluentSchemaRegistryCompatibilityError';
}

/** A 409 on the subject's config: another process set the new subject's level first. */
export function isConcurrentFirstConfig(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { status, url } = err as { status?: unknown; url?: unknown };
  return status === 409 && typeof url === 'string' && /\/config\//.test(url);
}
