// Writes a transaction's changes to Kafka: key = shipment id, value = ShipmentChange in the
// Confluent wire format (encoded synchronously with the registered schema's avsc type), through
// an idempotent producer with acks=all. `write` resolves only once the broker acknowledged every
// record, which is what lets the pipeline confirm the LSN.
import { Kafka, logLevel, type LogEntry, type Producer } from 'kafkajs';
import { errorMessage } from '../../../core/errors.ts';
import { RETRIED_KAFKA_NOISE } from '../../../core/kafka-client.ts';
import type { Logger } from '../../../core/logger.ts';
import { CdcKafkaError } from './errors.ts';
import type { CdcProducerOptions } from './options.ts';
import type { ShipmentChange } from '../../../schemas/types.ts';
import type { WireEncoder } from '../../../schemas/wire-encoder.ts';
import type { KeyedChange } from './row-conversion.ts';
import type { ChangeWriter } from './transaction-pipeline.ts';
import { assertDependenciesPatched } from '../../../core/patched-dependencies.ts';
import { Murmur2Partitioner } from '../../../core/murmur2-partitioner.ts';

/** kafkajs logs through pino, as fields; what kafkajs retries by itself goes to debug. */
export function kafkaLogCreator(log: Logger): () => (entry: LogEntry) => void {
  return () =>
    ({ namespace, level, log: entry }) => {
      const { message, timestamp: _timestamp, ...fields } = entry;
      const child = { ...fields, kafkajs: namespace };
      if (
        level <= logLevel.WARN &&
        RETRIED_KAFKA_NOISE.test(`${message} ${JSON.stringify(fields)}`)
      )
        log.debug(child, message);
      else if (level === logLevel.ERROR) log.error(child, message);
      else if (level === logLevel.WARN) log.warn(child, message);
      else if (level === logLevel.INFO) log.debug(child, message);
      else log.trace(child, message);
    };
}

export function createCdcKafka(options: CdcProducerOptions, log: Logger): Kafka {
  assertDependenciesPatched();
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    requestTimeout: options.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log.child({ component: 'kafkajs' })),
  });
}

export function createCdcProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    // One request in flight keeps the records of one shipment in commit order on retries.
    maxInFlightRequests: 1,
    // Java-compatible murmur2 partitioning: other clients find a shipment on the same partition
    // (kafkajs's DefaultPartitioner's choice, computed without its Long).
    createPartitioner: Murmur2Partitioner,
  });
}

export interface KafkaChangeWriterOptions {
  producer: Producer;
  encoder: WireEncoder<ShipmentChange>;
  topic: string;
  maxBatchRecords: number;
}

export class KafkaChangeWriter implements ChangeWriter {
  private readonly options: KafkaChangeWriterOptions;

  constructor(options: KafkaChangeWriterOptions) {
    this.options = options;
  }

  async write(changes: readonly KeyedChange[]): Promise<void> {
    const { producer, encoder, topic, maxBatchRecords } = this.options;
    for (let start = 0; start < changes.length; start += maxBatchRecords) {
      const batch = changes.slice(start, start + maxBatchRecords);
      let messages;
      try {
        messages = batch.map(({ key, change }) => ({ key, value: encoder.encode(change) }));
      } catch (cause) {
        throw new CdcKafkaError(`encoding ShipmentChange failed: ${errorMessage(cause)}`, {
          cause,
          context: { topic, schemaId: encoder.schemaId, records: batch.length },
        });
      }
      try {
        await producer.send({ topic, acks: -1, messages });
      } catch (cause) {
        throw new CdcKafkaError(`producing to ${topic} failed: ${errorMessage(cause)}`, {
          cause,
          context: {
            topic,
            records: batch.length,
            firstCommitLsn: batch[0]?.change.source.commitLsn,
          },
        });
      }
    }
  }
}
