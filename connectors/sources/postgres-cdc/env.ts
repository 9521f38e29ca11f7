// The CDC source's options from the platform Config (CONTINUUM_CDC_* and the topic names,
// validated once by core/config.ts), with explicit overrides (argv) on top.
import type { Config } from '../../../core/config.ts';
import { resolveCdcSourceOptions, type CdcSourceOptions } from './options.ts';

export interface CdcOverrides {
  schema?: string;
  table?: string;
  publication?: string;
  slot?: string;
  topic?: string;
  heartbeatIntervalMs?: number;
  snapshotMode?: 'initial' | 'never';
}

export function cdcOptionsFromConfig(
  config: Config,
  overrides: CdcOverrides = {},
): CdcSourceOptions {
  const defined = Object.fromEntries(
    Object.entries(overrides).filter(([, v]) => v !== undefined),
  ) as CdcOverrides;
  return resolveCdcSourceOptions({
    postgresUrl: config.postgres.url,
    schemaRegistryUrl: config.schemaRegistry.url,
    topic: config.topics.shipmentsCdc,
    producer: { brokers: [...config.kafka.brokers], clientId: `${config.kafka.clientId}-cdc` },
    schema: config.cdc.schema,
    table: config.cdc.table,
    publication: config.cdc.publication,
    slot: config.cdc.slot,
    heartbeatIntervalMs: config.cdc.heartbeatIntervalMs,
    snapshotMode: config.cdc.snapshotMode,
    spillAfterChanges: config.cdc.spillAfterChanges,
    spillDirectory: config.cdc.spillDirectory,
    ...defined,
  });
}
