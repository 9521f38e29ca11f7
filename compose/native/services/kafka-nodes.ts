// The native Kafka cluster's nodes as the stack names and addresses them: `kafka` (node 1, the
// only one of a one-node cluster), `kafka-2`, `kafka-3`.
import { hostPortOf, type Config } from '../../../core/config.ts';
import {
  kafkaNodeAddresses,
  type KafkaClusterSize,
  type KafkaNodeAddress,
} from '../../../core/kafka-cluster.ts';
import type { KafkaNodeName } from '../../../core/services.ts';

export interface KafkaNode {
  name: KafkaNodeName;
  address: KafkaNodeAddress;
  clusterSize: KafkaClusterSize;
  /** Every node of the cluster (its controller quorum). */
  cluster: readonly KafkaNodeAddress[];
}

export function kafkaNodeName(nodeId: number): KafkaNodeName {
  return nodeId === 1 ? 'kafka' : (`kafka-${nodeId}` as KafkaNodeName);
}

/** The cluster's nodes: node 1 at the first bootstrap address, the others 100 ports up each. */
export function kafkaNodes(config: Config): KafkaNode[] {
  const first = hostPortOf(config.kafka.brokers[0] ?? '127.0.0.1:9092', 9092);
  const cluster = kafkaNodeAddresses(
    {
      host: first.host,
      port: first.port,
      controllerPort: config.kafka.controllerPort,
      metricsPort: config.exporters.kafka,
    },
    config.kafka.nodes,
  );
  return cluster.map((address) => ({
    name: kafkaNodeName(address.nodeId),
    address,
    clusterSize: config.kafka.nodes,
    cluster,
  }));
}

export function kafkaNode(config: Config, nodeId: number): KafkaNode {
  const node = kafkaNodes(config).find((n) => n.address.nodeId === nodeId);
  if (!node)
    throw new Error(
      `the native Kafka cluster has ${config.kafka.nodes} node(s); there is no node ${nodeId}`,
    );
  return node;
}
