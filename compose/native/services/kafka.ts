// Apache Kafka 4.1, KRaft, from the jars on Maven Central: one combined broker+controller, or a
// cluster of three (`stack up --brokers 3`: replication factor 3, min.insync.replicas 2 for every
// topic, the transaction state log and the consumer offsets).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../../../core/config.ts';
import { ensurePlatformTopics } from '../../../core/ensure-platform-topics.ts';
import { StackServiceError } from '../../../core/errors.ts';
import {
  kafkaClusterFile,
  kafkaReplication,
  newKafkaClusterId,
  recordedKafkaCluster,
  type KafkaClusterRecord,
} from '../../../core/kafka-cluster.ts';
import { waitFor } from '../../../core/wait-for.ts';
import {
  cachePath,
  servicePaths,
  type NativeService,
  type StackContext,
} from '../native-service.ts';
import { runCommand } from '../run-command.ts';
import {
  ensureJmxAgent,
  installJmxAgent,
  jmxAgentArgument,
  prepareJmxAgent,
} from './kafka-jmx-agent.ts';
import { kafkaNode, type KafkaNode } from './kafka-nodes.ts';

/** Long.MAX_VALUE: no upper bound on how far ahead of the broker's clock a record may be. */
export const TIMESTAMP_AFTER_MAX_MS = '9223372036854775807';

export const KAFKA_VERSION = '4.1.1';

/** How often the native broker deletes what retention allows (Kafka's default: 300000). */
export const RETENTION_CHECK_INTERVAL_MS = 5_000;
const LOG4J_VERSION = '2.24.3';

function libDir(config: Config): string {
  return cachePath(config, `kafka-${KAFKA_VERSION}`, 'lib');
}

function pom(): string {
  const dep = (g: string, a: string, v: string): string =>
    `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>dev.continuum.stack</groupId><artifactId>kafka-dist</artifactId><version>1</version><packaging>pom</packaging>
<dependencies>
${dep('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION)}
${dep('org.apache.kafka', 'kafka-tools', KAFKA_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
</dependencies></project>
`;
}

export function serverProperties(node: KafkaNode, partitions: number, dataDir: string): string {
  const { host, port, controllerPort, nodeId } = node.address;
  const { replicationFactor, minInsyncReplicas } = kafkaReplication(node.clusterSize);
  return [
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    `controller.quorum.voters=${node.cluster.map((n) => `${n.nodeId}@${n.host}:${n.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    `num.partitions=${partitions}`,
    // The platform creates its topics without a replication factor: they get the cluster's.
    `default.replication.factor=${replicationFactor}`,
    `min.insync.replicas=${minInsyncReplicas}`,
    `offsets.topic.replication.factor=${replicationFactor}`,
    'offsets.topic.num.partitions=12',
    `transaction.state.log.replication.factor=${replicationFactor}`,
    `transaction.state.log.min.isr=${minInsyncReplicas}`,
    'transaction.state.log.num.partitions=12',
    `share.coordinator.state.topic.replication.factor=${replicationFactor}`,
    `share.coordinator.state.topic.min.isr=${minInsyncReplicas}`,
    // A replica that lost its leader may not become leader: acknowledged writes stay.
    'unclean.leader.election.enable=false',
    // A local stack: a new consumer group should not wait 3 s for members that will never come.
    'group.initial.rebalance.delay.ms=0',
    // Records carry event time, and a sped-up simulated fleet runs ahead of the wall clock:
    // Kafka 4 refuses timestamps more than 1 h ahead by default; we accept them, as Kafka 3 did.
    `log.message.timestamp.after.max.ms=${TIMESTAMP_AFTER_MAX_MS}`,
    // Tests create and delete many topics; explicit creation catches typos in topic names.
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'log.retention.hours=168',
    // Kafka checks retention every 5 min by default; every 5 s lets a test see it run (the check
    // only compares segment timestamps with the clock: cheap for the few topics here).
    `log.retention.check.interval.ms=${RETENTION_CHECK_INTERVAL_MS}`,
    'log.segment.bytes=67108864',
    'log.cleaner.dedupe.buffer.size=33554432',
    '',
  ].join('\n');
}

/** cluster.id of storage formatted before the stack recorded its clusters (always one node). */
function clusterIdOfFormattedStorage(metaProperties: string): string | undefined {
  return /^cluster\.id=(.+)$/m.exec(readFileSync(metaProperties, 'utf8'))?.[1]?.trim();
}

/**
 * The cluster every node is formatted into: recorded by whichever node prepares first, checked
 * by every later `stack up` (a three-node quorum cannot be made from one node's data, or back).
 */
function clusterRecord(config: Config, node: KafkaNode): Promise<KafkaClusterRecord> {
  // The nodes of one `up` prepare at once in this process: one of them reads or writes the record.
  const key = `${config.stateDir}\0${node.clusterSize}`;
  let pending = clusterRecords.get(key);
  if (!pending) {
    pending = readOrRecordCluster(config, node);
    clusterRecords.set(key, pending);
    pending.catch(() => undefined).finally(() => clusterRecords.delete(key));
  }
  return pending;
}

const clusterRecords = new Map<string, Promise<KafkaClusterRecord>>();

async function readOrRecordCluster(config: Config, node: KafkaNode): Promise<KafkaClusterRecord> {
  const file = kafkaClusterFile(config.stateDir);
  let recorded = recordedKafkaCluster(config.stateDir);
  const firstNodeMeta = nodePath.join(servicePaths(config, 'kafka').dataDir, 'meta.properties');
  if (!recorded && existsSync(firstNodeMeta)) {
    const clusterId = clusterIdOfFormattedStorage(firstNodeMeta);
    if (clusterId) recorded = { clusterId, nodes: 1 };
  }
  if (recorded) {
    if (!existsSync(file)) await writeFile(file, `${JSON.stringify(recorded)}\n`);
    if (recorded.nodes !== node.clusterSize)
      throw new StackServiceError(
        node.name,
        `the stack's Kafka data is a ${recorded.nodes}-node cluster, and ${node.clusterSize} node(s) were asked for (CONTINUUM_KAFKA_NODES / --brokers). ` +
          `Keep ${recorded.nodes}, or start over with new, empty topics: \`continuum stack down\`, delete ${nodePath.join(config.stateDir, 'kafka*')}, then \`continuum stack up --brokers ${node.clusterSize}\``,
      );
    return recorded;
  }
  const record: KafkaClusterRecord = { clusterId: newKafkaClusterId(), nodes: node.clusterSize };
  await mkdir(nodePath.dirname(file), { recursive: true });
  try {
    // `wx`: of the nodes preparing at once, one records the cluster and all format into it.
    await writeFile(file, `${JSON.stringify(record)}\n`, { flag: 'wx' });
    return record;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return JSON.parse(await readFile(file, 'utf8')) as KafkaClusterRecord;
  }
}

const LOG4J2 = `Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: WARN
      - name: kafka.log.LogCleaner
        level: WARN
`;

/** The stack's own short-lived client: of the whole cluster, or of the `brokers` given. */
export function kafkaClient(
  config: Config,
  clientId: string,
  brokers: readonly string[] = config.kafka.brokers,
): Kafka {
  return new Kafka({
    clientId: `${config.kafka.clientId}-${clientId}`,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
}

/** Node `nodeId` of the native cluster as a stack service (`kafka`, `kafka-2`, `kafka-3`). */
export function kafkaNodeService(nodeId: number): NativeService {
  const nodeOf = (ctx: StackContext): KafkaNode => kafkaNode(ctx.config, nodeId);
  return {
    name: nodeId === 1 ? 'kafka' : (`kafka-${nodeId}` as const as 'kafka-2' | 'kafka-3'),
    // The nodes start together: a node is ready only once a quorum of them runs.
    dependsOn: [],
    url: (config) => {
      const { host, port } = kafkaNode(config, nodeId).address;
      return nodeId === 1 ? config.kafka.brokers.join(',') : `${host}:${port}`;
    },

    async install(ctx) {
      await installJmxAgent(ctx, nodeOf(ctx));
      const lib = libDir(ctx.config);
      const marker = nodePath.join(lib, '.complete');
      if (existsSync(marker)) return;
      const home = nodePath.dirname(lib);
      await mkdir(home, { recursive: true });
      await writeFile(nodePath.join(home, 'pom.xml'), pom());
      ctx.report(nodeOf(ctx).name, `downloading Kafka ${KAFKA_VERSION} jars from Maven Central`);
      await runCommand(
        'mvn',
        [
          '-q',
          '-B',
          'dependency:copy-dependencies',
          `-DoutputDirectory=${lib}`,
          '-DincludeScope=runtime',
        ],
        { cwd: home },
      );
      await writeFile(marker, new Date().toISOString());
    },

    async prepare(ctx) {
      const node = nodeOf(ctx);
      const paths = servicePaths(ctx.config, node.name);
      await mkdir(paths.dataDir, { recursive: true });
      const record = await clusterRecord(ctx.config, node);
      const properties = nodePath.join(paths.dir, 'server.properties');
      await writeFile(
        properties,
        serverProperties(node, ctx.config.topics.partitions, paths.dataDir),
      );
      await writeFile(nodePath.join(paths.dir, 'log4j2.yaml'), LOG4J2);
      await prepareJmxAgent(ctx.config, node);
      if (existsSync(nodePath.join(paths.dataDir, 'meta.properties'))) return;
      ctx.report(node.name, 'formatting KRaft storage');
      await runCommand('java', [
        '-cp',
        `${libDir(ctx.config)}/*`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        record.clusterId,
        '-c',
        properties,
      ]);
    },

    launch(ctx) {
      const node = nodeOf(ctx);
      const paths = servicePaths(ctx.config, node.name);
      return {
        command: 'java',
        args: [
          '-Xms256m',
          '-Xmx1g',
          '-XX:+UseG1GC',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${nodePath.join(paths.dir, 'log4j2.yaml')}`,
          `-Dkafka.logs.dir=${paths.dir}`,
          jmxAgentArgument(ctx.config, node),
          '-cp',
          `${libDir(ctx.config)}/*`,
          'kafka.Kafka',
          nodePath.join(paths.dir, 'server.properties'),
        ],
        cwd: paths.dir,
      };
    },

    /** Ready when this node answers on its own listener and has joined the cluster. */
    async probe(ctx) {
      const node = nodeOf(ctx);
      const admin = nodeClient(ctx.config, node, 'stack-probe').admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        const joined = cluster.brokers.some((b) => b.nodeId === node.address.nodeId);
        return {
          ok: joined,
          version: KAFKA_VERSION,
          detail: joined
            ? `cluster ${cluster.clusterId}, ${cluster.brokers.length} of ${node.clusterSize} node(s)`
            : `node ${node.address.nodeId} has not joined cluster ${cluster.clusterId} yet`,
        };
      } finally {
        await admin.disconnect();
      }
    },

    // Node 1 creates the platform's topics, once every node has joined (replication factor 3
    // needs three brokers); the registry and everything else depend on it.
    afterReady:
      nodeId === 1
        ? async (ctx) => {
            await awaitEveryNode(ctx, nodeOf(ctx));
            await ensureTopics(ctx);
          }
        : undefined,

    whenReused: (ctx, pid) => ensureJmxAgent(ctx, nodeOf(ctx), pid),
  };
}

/** The one node of a one-node cluster; node 1 of three. */
export const kafkaService: NativeService = kafkaNodeService(1);

/** A client of this node alone: its probe must not be answered by another node. */
function nodeClient(config: Config, node: KafkaNode, clientId: string): Kafka {
  return kafkaClient(config, clientId, [`${node.address.host}:${node.address.port}`]);
}

async function awaitEveryNode(ctx: StackContext, node: KafkaNode): Promise<void> {
  if (node.clusterSize === 1) return;
  ctx.report(node.name, `waiting for all ${node.clusterSize} nodes to join`);
  const admin = nodeClient(ctx.config, node, 'stack-cluster').admin();
  await admin.connect();
  try {
    await waitFor(async () => (await admin.describeCluster()).brokers.length >= node.clusterSize, {
      timeoutMs: ctx.config.stack.startTimeoutMs,
      intervalMs: 250,
      maxIntervalMs: 1_000,
      description: `all ${node.clusterSize} Kafka nodes to join the cluster`,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Creates the platform's missing topics and aligns the configs of existing ones. */
async function ensureTopics(ctx: StackContext): Promise<void> {
  const admin = kafkaClient(ctx.config, 'stack-topics').admin();
  await admin.connect();
  try {
    const { created, aligned } = await ensurePlatformTopics(admin, ctx.config, ctx.log);
    if (created.length + aligned.length > 0)
      ctx.report('kafka', `${created.length} topics created, ${aligned.length} aligned`);
  } finally {
    await admin.disconnect();
  }
}
