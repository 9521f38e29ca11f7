// The native stack's Kafka cluster shape: one KRaft node, or three (replication factor 3,
// min.insync.replicas 2). The size is chosen when the cluster's storage is formatted and recorded
// beside it, so every later process on this machine (the CLI, the pipeline, the tests) bootstraps
// from every node without anyone repeating `--brokers 3`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nodePath from 'node:path';

export const KAFKA_CLUSTER_SIZES = ['1', '3'] as const;
export type KafkaClusterSize = 1 | 3;

/** Node n listens on the first node's broker, controller and metrics ports plus (n − 1) × 100. */
export const KAFKA_NODE_PORT_STEP = 100;

export interface KafkaClusterRecord {
  clusterId: string;
  nodes: KafkaClusterSize;
}

/** Where the cluster's id and size are recorded (in the first node's state folder). */
export function kafkaClusterFile(stateDir: string): string {
  return nodePath.join(stateDir, 'kafka', 'cluster.json');
}

/** The recorded cluster, or undefined before the first format (or for a pre-record cluster). */
export function recordedKafkaCluster(stateDir: string): KafkaClusterRecord | undefined {
  let text: string;
  try {
    text = readFileSync(kafkaClusterFile(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<KafkaClusterRecord>;
  if (typeof parsed.clusterId !== 'string' || (parsed.nodes !== 1 && parsed.nodes !== 3))
    throw new Error(
      `${kafkaClusterFile(stateDir)} is not a Kafka cluster record (want {"clusterId", "nodes": 1|3})`,
    );
  return { clusterId: parsed.clusterId, nodes: parsed.nodes };
}

/** A KRaft cluster id as Kafka's `Uuid.randomUuid()` writes it: 16 random bytes, base64url. */
export function newKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // Kafka refuses ids that start with '-' (they read as command-line options).
    if (!id.startsWith('-')) return id;
  }
}

export interface KafkaNodeAddress {
  /** KRaft node.id: 1, 2, 3. */
  nodeId: number;
  host: string;
  port: number;
  controllerPort: number;
  /** The Prometheus JMX agent inside the node's JVM. */
  metricsPort: number;
}

/** Every node's listeners, from the first node's. */
export function kafkaNodeAddresses(
  first: Omit<KafkaNodeAddress, 'nodeId'>,
  nodes: KafkaClusterSize,
): KafkaNodeAddress[] {
  return Array.from({ length: nodes }, (_, i) => ({
    nodeId: i + 1,
    host: first.host,
    port: first.port + i * KAFKA_NODE_PORT_STEP,
    controllerPort: first.controllerPort + i * KAFKA_NODE_PORT_STEP,
    metricsPort: first.metricsPort + i * KAFKA_NODE_PORT_STEP,
  }));
}

/** The replication every topic gets from the brokers' defaults, by cluster size. */
export function kafkaReplication(nodes: KafkaClusterSize): {
  replicationFactor: number;
  minInsyncReplicas: number;
} {
  return nodes === 3
    ? { replicationFactor: 3, minInsyncReplicas: 2 }
    : { replicationFactor: 1, minInsyncReplicas: 1 };
}
