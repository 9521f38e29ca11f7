// One way to build a kafkajs client: brokers and client id from Config, kafkajs's own log
// routed into pino, minus the errors kafkajs retries by itself.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { assertDependenciesPatched } from './patched-dependencies.ts';
import { quietKnownWarnings } from './process-warnings.ts';

// Retriable conditions kafkajs logs and then retries (coordinator/leader elections right after
// start-up, rebalances). kafkajs logs the protocol's text, so codes and texts are both here.
export const RETRIED_KAFKA_NOISE = new RegExp(
  [
    'CONCURRENT_TRANSACTIONS',
    'another concurrent operation on the same transaction',
    'NOT_COORDINATOR',
    'not the correct coordinator',
    'COORDINATOR_NOT_AVAILABLE',
    'coordinator is not available',
    'COORDINATOR_LOAD_IN_PROGRESS',
    'coordinator is loading',
    'LEADER_NOT_AVAILABLE',
    'leadership election',
    'NOT_LEADER',
    'not the leader for that topic-partition',
    'UNKNOWN_TOPIC_OR_PARTITION',
    'does not host this topic-partition',
    'REBALANCE_IN_PROGRESS',
    'group is rebalancing',
  ].join('|'),
  'i',
);

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** What a Kafka client needs of Config (the streams adapters take just this). */
export type KafkaClientConfig = { kafka: Pick<Config['kafka'], 'brokers' | 'clientId'> };

export function createKafkaClient(config: KafkaClientConfig, clientId: string, log: Logger): Kafka {
  assertDependenciesPatched();
  quietKnownWarnings();
  // We want kafkajs 2's default partitioner (murmur2, as the Java client: keys land on the
  // same partitions whichever client produced them); its "default changed" notice is noise.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const kafkaLog = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: `${config.kafka.clientId}-${clientId}`,
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, timestamp: _timestamp, ...fields } = entry;
        if (
          level <= logLevel.WARN &&
          RETRIED_KAFKA_NOISE.test(`${message} ${JSON.stringify(fields)}`)
        )
          return;
        kafkaLog[PINO_LEVEL[level] ?? 'info']({ namespace, ...fields }, message);
      },
  });
}
