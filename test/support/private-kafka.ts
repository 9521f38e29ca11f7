// A KRaft cluster of one or three nodes for the broker scenarios, started by the stack's own
// code (`NativeStack`, as `continuum stack up [--brokers 3]` starts it) beside the test stack: its
// own state folder and ports, the test stack's other services shared. Nodes can be killed and
// restarted one at a time, or the whole cluster stopped and started again.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { loadConfig, type Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { servicePaths } from '../../compose/native/native-service.ts';
import { NativeStack } from '../../compose/native/native-stack.ts';
import { isAlive, readPid } from '../../compose/native/process-supervisor.ts';
import { kafkaNodeName, kafkaNodes } from '../../compose/native/services/kafka-nodes.ts';
import { createKafka, withAdmin as withAdminOf } from './kafka.ts';

/**
 * Node n: broker 21092 + 100(n − 1), controller 21093 + …, JMX agent 21404 + … Below the
 * kernel's ephemeral range (32768–60999): a port in it can be any client connection's local
 * port at the moment a node starts ("Address already in use").
 */
const FIRST_NODE = { port: 21092, controllerPort: 21093, metricsPort: 21404 };

export interface PrivateKafka {
  /** The test stack's configuration with this cluster as its Kafka. */
  config: Config;
  nodeIds: readonly number[];
  /** Stops every node (SIGTERM, as `stack down` does): the whole cluster is gone. */
  stopAll(): Promise<void>;
  /** Starts every node again and waits until the cluster answers. */
  startAll(): Promise<void>;
  kill(nodeId: number): Promise<void>;
  /** Starts a killed node again and waits until it has rejoined the cluster. */
  restart(nodeId: number): Promise<void>;
  /** How many of `topics`' partitions each node leads. */
  leaders(topics: readonly string[]): Promise<Map<number, number>>;
  /** Waits until every partition of `topics` has a replica in sync on every node again. */
  inSync(topics: readonly string[], timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateKafka(
  base: Config,
  log: Logger,
  nodes: 1 | 3,
): Promise<PrivateKafka> {
  const stateDir = await mkdtemp(nodePath.join(os.tmpdir(), `continuum-kafka-${nodes}-nodes-`));
  const brokers = Array.from(
    { length: nodes },
    (_, i) => `127.0.0.1:${FIRST_NODE.port + 100 * i}`,
  ).join(',');
  const clusterConfig = loadConfig({
    ...process.env,
    CONTINUUM_STATE_DIR: stateDir,
    CONTINUUM_CACHE_DIR: base.cacheDir,
    CONTINUUM_KAFKA_NODES: String(nodes),
    CONTINUUM_KAFKA_BROKERS: brokers,
    CONTINUUM_KAFKA_CONTROLLER_PORT: String(FIRST_NODE.controllerPort),
    CONTINUUM_KAFKA_METRICS_PORT: String(FIRST_NODE.metricsPort),
  });
  const stack = new NativeStack(clusterConfig, log);
  const up = await stack.up({ only: ['kafka'], progress: false });
  if (up.failed.length > 0) {
    await stack.down(['kafka']);
    throw new Error(
      `the ${nodes}-node cluster did not start: ${up.failed.map((f) => `${f.message}\n${f.logTail ?? ''}`).join('\n')}`,
    );
  }
  // The rest of the test stack as it is (its PostgreSQL password lives in its own state folder).
  const config = loadConfig({ ...process.env, CONTINUUM_KAFKA_BROKERS: brokers });
  const kafka = createKafka(config, `private-kafka-${nodes}`);
  const nodeIds = kafkaNodes(clusterConfig).map((n) => n.address.nodeId);

  const withAdmin = <T>(body: Parameters<typeof withAdminOf<T>>[1]): Promise<T> =>
    withAdminOf(kafka, body);

  return {
    config,
    nodeIds,
    async stopAll() {
      await stack.down(['kafka']);
    },
    async startAll() {
      const result = await stack.up({ only: ['kafka'], progress: false });
      if (result.failed.length > 0)
        throw new Error(`the cluster did not start again: ${result.failed[0]?.message}`);
    },
    async kill(nodeId) {
      const pid = readPid(servicePaths(clusterConfig, kafkaNodeName(nodeId)));
      if (pid === undefined || !isAlive(pid)) throw new Error(`node ${nodeId} is not running`);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid), {
        timeoutMs: 10_000,
        intervalMs: 20,
        description: `node ${nodeId} (pid ${pid}) to die`,
      });
    },
    async restart(nodeId) {
      const result = await stack.up({ only: [kafkaNodeName(nodeId)], progress: false });
      if (result.failed.length > 0)
        throw new Error(`node ${nodeId} did not restart: ${result.failed[0]?.message}`);
    },
    leaders: (topics) =>
      withAdmin(async (admin) => {
        const counts = new Map<number, number>(nodeIds.map((id) => [id, 0]));
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
        for (const t of metadata)
          for (const p of t.partitions) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
        return counts;
      }),
    inSync: (topics, timeoutMs) =>
      withAdmin((admin) =>
        waitFor(
          async () => {
            const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
            return metadata.every((t) => t.partitions.every((p) => p.isr.length === nodes));
          },
          {
            timeoutMs,
            intervalMs: 250,
            description: `every replica of ${topics.join(', ')} in sync`,
          },
        ).then(() => undefined),
      ),
    async stop() {
      await stack.down(['kafka']);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
