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
