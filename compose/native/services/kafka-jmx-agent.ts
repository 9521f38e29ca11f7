// Broker metrics: the Prometheus JMX agent (io.prometheus.jmx:jmx_prometheus_javaagent 1.0.1
// from Maven Central; newer ones are not served there) inside the broker's JVM. A broker this
// stack starts gets it as a -javaagent; one it finds running without it (started by an older
// `stack up`) gets it loaded into its JVM (jcmd JVMTI.agent_load; the agent has an
// Agent-Class), so the broker keeps running and is measured all the same.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import nodePath from 'node:path';
import type { Config } from '../../../core/config.ts';
import { StackServiceError } from '../../../core/errors.ts';
import { repoRoot } from '../../../core/paths.ts';
import { waitFor } from '../../../core/wait-for.ts';
import { cachePath, probeFetch, servicePaths, type StackContext } from '../native-service.ts';
import { runCommand, tryCommand } from '../run-command.ts';
import { scrapeTargetFile, writeScrapeTarget } from '../scrape-targets.ts';
import type { KafkaNode } from './kafka-nodes.ts';

export const JMX_AGENT_VERSION = '1.0.1';
const ARTIFACT = `io.prometheus.jmx:jmx_prometheus_javaagent:${JMX_AGENT_VERSION}`;

/** The job name Prometheus gives the broker's metrics, natively and in docker-compose. */
export const KAFKA_BROKER_JOB = 'kafka-broker';

/** The agent's rules, shared with docker-compose (which mounts the same file). */
export const JMX_AGENT_RULES = nodePath.join(repoRoot, 'compose', 'kafka', 'jmx-exporter.yaml');

export function jmxAgentJar(config: Config): string {
  return cachePath(
    config,
    `jmx_prometheus_javaagent-${JMX_AGENT_VERSION}`,
    `jmx_prometheus_javaagent-${JMX_AGENT_VERSION}.jar`,
  );
}

/** The rules as a node reads them: a copy in its state folder (the agent rereads it when it changes). */
function rulesFile(config: Config, node: KafkaNode): string {
  return nodePath.join(servicePaths(config, node.name).dir, 'jmx-exporter.yaml');
}

export function jmxAgentMetricsUrl(node: KafkaNode): string {
  return `http://${node.address.host}:${node.address.metricsPort}/metrics`;
}

/** `<host>:<port>:<rules>`: what the agent is given, at launch or when loaded later. */
function agentOptions(config: Config, node: KafkaNode): string {
  return `${node.address.host}:${node.address.metricsPort}:${rulesFile(config, node)}`;
}

/** The scrape target's file name: `kafka-broker` for node 1 (as before clusters), `kafka-broker-<n>` else. */
function targetName(nodeId: number): string {
  return nodeId === 1 ? KAFKA_BROKER_JOB : `${KAFKA_BROKER_JOB}-${nodeId}`;
}

/** Downloads the agent jar (Maven Central, cached); Maven checks its checksum. */
export async function installJmxAgent(ctx: StackContext, node: KafkaNode): Promise<void> {
  const jar = jmxAgentJar(ctx.config);
  if (existsSync(jar)) return;
  ctx.report(node.name, `downloading the Prometheus JMX agent ${JMX_AGENT_VERSION}`);
  await runCommand('mvn', [
    '-q',
    '-B',
    'dependency:copy',
    `-Dartifact=${ARTIFACT}`,
    `-DoutputDirectory=${nodePath.dirname(jar)}`,
  ]);
}

/** Writes the rules where the node reads them and tells Prometheus where to scrape. */
export async function prepareJmxAgent(config: Config, node: KafkaNode): Promise<void> {
  await mkdir(servicePaths(config, node.name).dir, { recursive: true });
  await copyFile(JMX_AGENT_RULES, rulesFile(config, node));
  await writeScrapeTarget(config, {
    name: targetName(node.address.nodeId),
    address: `${node.address.host}:${node.address.metricsPort}`,
    labels: { job: KAFKA_BROKER_JOB, node: String(node.address.nodeId) },
  });
  // A cluster of one after a cluster of three: the other nodes' targets would read as down.
  if (node.address.nodeId === 1)
    for (let id = node.clusterSize + 1; id <= 3; id++)
      await rm(scrapeTargetFile(config, targetName(id)), { force: true });
}

/** The JVM argument that starts the agent with the node. */
export function jmxAgentArgument(config: Config, node: KafkaNode): string {
  return `-javaagent:${jmxAgentJar(config)}=${agentOptions(config, node)}`;
}

async function agentAnswers(node: KafkaNode): Promise<boolean> {
  try {
    return (await probeFetch(jmxAgentMetricsUrl(node), 2_000)).ok;
  } catch {
    return false;
  }
}

/**
 * Makes sure a node the stack started (`pid`) serves its metrics: loads the agent into its
 * JVM when it was started without it. Only for a node of ours, never an external broker.
 */
export async function ensureJmxAgent(
  ctx: StackContext,
  node: KafkaNode,
  pid: number,
): Promise<void> {
  await installJmxAgent(ctx, node);
  await prepareJmxAgent(ctx.config, node);
  if (await agentAnswers(node)) return;
  if ((await tryCommand('jcmd', ['-h'])) === undefined)
    throw new StackServiceError(
      node.name,
      `the broker runs without the JMX agent and \`jcmd\` (a JDK tool) is missing to load it: install openjdk-17-jdk-headless, or restart Kafka (\`stack down -s ${node.name} && stack up\`)`,
    );
  ctx.report(node.name, 'loading the Prometheus JMX agent into the running broker');
  await runCommand('jcmd', [
    String(pid),
    'JVMTI.agent_load',
    jmxAgentJar(ctx.config),
    agentOptions(ctx.config, node),
  ]);
  await waitFor(() => agentAnswers(node), {
    timeoutMs: 30_000,
    intervalMs: 250,
    description: `the broker's JMX agent to answer at ${jmxAgentMetricsUrl(node)}`,
  });
}
