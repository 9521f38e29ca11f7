// Options of the PostgreSQL CDC source, with their defaults declared beside them.
import { tmpdir } from 'node:os';
import { z } from 'zod';

export interface CdcProducerOptions {
  /** kafkajs client id of the producer. */
  clientId: string;
  brokers: readonly string[];
  /** Records per `producer.send` call; a transaction larger than this is sent in several. */
  maxBatchRecords: number;
  /** How long one `send` may wait for the broker before it counts as failed (then retried). */
  requestTimeoutMs: number;
}

export interface CdcSourceOptions {
  /** PostgreSQL connection URL; the role needs REPLICATION (and CREATE on the database for the publication). */
  postgresUrl: string;
  /** Schema of the source table. */
  schema: string;
  /** Source table (its columns are those of schemas/sql/shipments.sql). */
  table: string;
  /**
   * Create the table (schemas/platform-tables.ts) when missing, before the publication and the
   * slot, so that changes written right after the source started are all streamed. Only for the
   * platform's own table (`shipments`); another table must exist already (it is waited for).
   */
  createTable: boolean;
  /** Publication `FOR TABLE schema.table`, created when missing. */
  publication: string;
  /** Logical replication slot (pgoutput), created when missing (with the initial snapshot). */
  slot: string;
  /** Kafka topic of the ShipmentChange records. */
  topic: string;
  schemaRegistryUrl: string;
  /** When idle, how often the source writes a heartbeat into the WAL and confirms the server's position. */
  heartbeatIntervalMs: number;
  /** How often `pg_current_wal_lsn() - confirmed_flush_lsn` is polled for the lag metric. */
  lagPollIntervalMs: number;
  /**
   * `initial`: when the slot is new, emit the table's rows as op=SNAPSHOT first (and redo a
   * snapshot a crash cut short, dropping its slot). `never`: stream only, never drop a slot.
   */
  snapshotMode: 'initial' | 'never';
  /** Rows per FETCH of the snapshot cursor. */
  snapshotFetchRows: number;
  /** First pause before reconnecting after PostgreSQL or Kafka failed; doubles up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** Pause reading the replication stream when this many decoded messages wait (back-pressure). */
  maxQueuedMessages: number;
  /**
   * A transaction with more changes than this keeps them in a file in `spillDirectory` until
   * its COMMIT, so a transaction larger than memory goes through (PostgreSQL spills its side).
   */
  spillAfterChanges: number;
  /** Where spilled transactions are written (deleted once written to Kafka); the OS temp dir by default. */
  spillDirectory: string;
  producer: CdcProducerOptions;
}

export const CDC_SOURCE_DEFAULTS = {
  postgresUrl: 'postgres://continuum@127.0.0.1:5432/continuum',
  schema: 'public',
  table: 'shipments',
  createTable: true,
  publication: 'continuum_shipments_pub',
  slot: 'continuum_shipments_slot',
  topic: 'shipments.cdc',
  schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
  heartbeatIntervalMs: 10_000,
  lagPollIntervalMs: 5_000,
  snapshotMode: 'initial',
  snapshotFetchRows: 1_000,
  retryInitialMs: 500,
  retryMaxMs: 30_000,
  maxQueuedMessages: 10_000,
  spillAfterChanges: 20_000,
  spillDirectory: tmpdir(),
  producer: {
    clientId: 'continuum-cdc',
    brokers: ['127.0.0.1:9092'],
    maxBatchRecords: 500,
    requestTimeoutMs: 30_000,
  },
} as const satisfies CdcSourceOptions;

export type CdcSourceOptionsInput = Partial<Omit<CdcSourceOptions, 'producer'>> & {
  producer?: Partial<CdcProducerOptions>;
};

// Identifiers go into SQL and replication commands unquoted-safe: lower-case PostgreSQL names.
const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case PostgreSQL identifier ([a-z_][a-z0-9_]*, ≤ 63)');

const optionsSchema = z.object({
  postgresUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  schema: identifier,
  table: identifier,
  createTable: z.boolean(),
  publication: identifier,
  slot: identifier,
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
  schemaRegistryUrl: z.string().url(),
  heartbeatIntervalMs: z.number().int().min(100).max(3_600_000),
  lagPollIntervalMs: z.number().int().min(100).max(3_600_000),
  snapshotMode: z.enum(['initial', 'never']),
  snapshotFetchRows: z.number().int().min(1).max(1_000_000),
  retryInitialMs: z.number().int().min(1).max(600_000),
  retryMaxMs: z.number().int().min(1).max(3_600_000),
  maxQueuedMessages: z.number().int().min(10).max(10_000_000),
  spillAfterChanges: z.number().int().min(1).max(10_000_000),
  spillDirectory: z.string().min(1),
  producer: z.object({
    clientId: z.string().min(1),
    brokers: z.array(z.string().min(1)).min(1),
    maxBatchRecords: z.number().int().min(1).max(100_000),
    requestTimeoutMs: z.number().int().min(100).max(600_000),
  }),
});

/** Fills in defaults and validates; throws a RangeError naming every bad option. */
export function resolveCdcSourceOptions(input: CdcSourceOptionsInput = {}): CdcSourceOptions {
  const merged = {
    ...CDC_SOURCE_DEFAULTS,
    ...input,
    producer: { ...CDC_SOURCE_DEFAULTS.producer, ...input.producer },
  };
  const parsed = optionsSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new RangeError(`invalid CDC source options: ${problems.join('; ')}`);
  }
  return Object.freeze({ ...parsed.data, producer: Object.freeze(parsed.data.producer) });
}

export function qualifiedTable(options: Pick<CdcSourceOptions, 'schema' | 'table'>): string {
  return `${options.schema}.${options.table}`;
}
