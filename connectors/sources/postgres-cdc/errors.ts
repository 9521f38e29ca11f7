// Typed errors of the CDC source. The run loop retries what is `retriable` (PostgreSQL or
// Kafka unavailable) with backoff and stops on the rest (a row it cannot convert).
import { ContinuumError, type ContinuumErrorOptions } from '../../../core/errors.ts';

/** PostgreSQL refused or dropped a connection, the slot is busy, or a query failed. */
export class CdcPostgresError extends ContinuumError {
  override readonly code = 'CDC_POSTGRES_FAILED';
  constructor(message: string, options: ContinuumErrorOptions = {}) {
    super(message, { retriable: true, ...options });
  }
}

/** Kafka or the schema registry did not acknowledge records of a transaction. */
export class CdcKafkaError extends ContinuumError {
  override readonly code = 'CDC_KAFKA_FAILED';
  constructor(message: string, options: ContinuumErrorOptions = {}) {
    super(message, { retriable: true, ...options });
  }
}

/** A replicated row or message does not fit the ShipmentChange contract. Not retriable: it would fail again. */
export class CdcDecodeError extends ContinuumError {
  override readonly code = 'CDC_DECODE_FAILED';
  constructor(message: string, options: ContinuumErrorOptions = {}) {
    super(message, { retriable: false, ...options });
  }
}

/**
 * The captured table was truncated. A TRUNCATE names no rows, so ShipmentChange cannot carry
 * it: the source stops here, before the TRUNCATE's transaction, rather than let the platform's
 * state drift from the table. Not retriable: the slot hands the same TRUNCATE over again.
 */
export class CdcTruncateError extends ContinuumError {
  override readonly code = 'CDC_TRUNCATE';
  constructor(table: string, slot: string, lsn: string) {
    super(
      `${table} was truncated (at ${lsn}): a TRUNCATE names no rows, so it cannot reach the shipment state, and the CDC source stopped before it. ` +
        `Either restore the rows and let the source skip the TRUNCATE by recreating slot ${slot} ` +
        `(SELECT pg_drop_replication_slot('${slot}'); the source snapshots the table again at its next start), ` +
        'or, to empty the platform too, stop the pipeline and clear its view and topics (continuum streams reset; continuum replay rebuild-view).',
      { retriable: false, context: { table, slot, lsn } },
    );
  }
}
