// Builds the streams runtime's Kafka client for a kind: kafkajs (the design's client) or
// @platformatic/kafka. The runtime and processors see only the port.
import type { KafkaClientConfig } from '../../../core/kafka-client.ts';
import type { Logger } from '../../../core/logger.ts';
import type { StreamsClientKind, StreamsKafkaClient } from '../kafka-port.ts';
import { KafkajsStreamsClient } from './kafkajs-client.ts';
import { PlatformaticStreamsClient } from './platformatic-client.ts';

export const STREAMS_CLIENT_KINDS: readonly StreamsClientKind[] = ['kafkajs', 'platformatic'];

export function createStreamsClient(
  config: KafkaClientConfig,
  kind: StreamsClientKind,
  log: Logger,
  options: { maxRequestBytes?: number } = {},
): StreamsKafkaClient {
  const clientOptions = { config, log, maxRequestBytes: options.maxRequestBytes };
  return kind === 'kafkajs'
    ? new KafkajsStreamsClient(clientOptions)
    : new PlatformaticStreamsClient(clientOptions);
}
