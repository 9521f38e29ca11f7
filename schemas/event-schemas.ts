// The Avro contracts of the platform's topics, loaded from schemas/avro/*.avsc, and the
// registry client that encodes and decodes them in the Confluent wire format.
import { readFileSync } from 'node:fs';
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
 * stack): the client sets the subject's compatibility after a first registration, and Apicurio
 * refuses all but one of concurrent first settings with 409 "A rule named 'COMPATIBILITY'
 * already exists". The schema is registered and the level set by then, so registering again
 * finds both.
 */
export async function registerValueSchema(
  registry: SchemaRegistry,
  topic: string,
  name: EventSchemaName,
): Promise<number> {
  const schema = { type: SchemaType.AVRO as const, schema: JSON.stringify(loadAvroSchema(name)) };
  const subject = valueSubject(topic);
  try {
    return (await registry.register(schema, { subject })).id;
  } catch (err) {
    if (!isConcurrentFirstConfig(err)) throw err;
    return (await registry.register(schema, { subject })).id;
  }
}

/** A 409 on the subject's config: another process set the new subject's level first. */
export function isConcurrentFirstConfig(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { status, url } = err as { status?: unknown; url?: unknown };
  return status === 409 && typeof url === 'string' && /\/config\//.test(url);
}
