// Broker metrics: the Prometheus JMX agent (io.prometheus.jmx:jmx_prometheus_javaagent 1.0.1
// from Maven Central; newer ones are not served there) inside the broker's JVM. A broker this
// stack starts gets it as a -javaagent; one it finds running without it (started by an older
// `stack up`) gets it loaded into its JVM (jcmd JVMTI.agent_load; the agent has an
// Agent-Class), so the broker keeps running and is measured all the same.
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import nodePath from 'node:path';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { StackServiceError } from '../../../core/errors.ts';
import { repoRoot } from '../../../core/paths.ts';
import { waitFor } from '../../../core/wait-for.ts';
import { cachePath, probeFetch, servicePaths, type StackContext } from '../native-service.ts';
import { runCommand, tryCommand } from '../run-command.ts';
import { writeScrapeTarget } from '../scrape-targets.ts';

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

/** The rules as the broker reads them: a copy in its state folder (the agent rereads it when it changes). */
function rulesFile(config: Config): string {
  return nodePath.join(servicePaths(config, 'kafka').dir, 'jmx-exporter.yaml');
}

function address(config: Config): { host: string; port: number } {
  const broker = hostPortOf(config.kafka.brokers[0] ?? '127.0.0.1:9092', 9092);
  return { host: broker.host, port: config.exporters.kafka };
}

export function jmxAgentMetricsUrl(config: Config): string {
  const { host, port } = address(config);
  return `http://${host}:${port}/metrics`;
}

/** `<host>:<port>:<rules>`: what the agent is given, at launch or when loaded later. */
function agentOptions(config: Config): string {
  const { host, port } = address(config);
  return `${host}:${port}:${rulesFile(config)}`;
}

/** Downloads the agent jar (Maven Central, cached); Maven checks its checksum. */
export async function installJmxAgent(ctx: StackContext): Promise<void> {
  const jar = jmxAgentJar(ctx.config);
  if (existsSync(jar)) return;
  ctx.report('kafka', `downloading the Prometheus JMX agent ${JMX_AGENT_VERSION}`);
  await runCommand('mvn', [
    '-q',
    '-B',
    'dependency:copy',
    `-Dartifact=${ARTIFACT}`,
    `-DoutputDirectory=${nodePath.dirname(jar)}`,
  ]);
}

/** Writes the rules where the broker reads them and tells Prometheus where to scrape. */
export async function prepareJmxAgent(config: Config): Promise<void> {
  await mkdir(servicePaths(config, 'kafka').dir, { recursive: true });
  await copyFile(JMX_AGENT_RULES, rulesFile(config));
  const { host, port } = address(config);
  await writeScrapeTarget(config, {
    name: KAFKA_BROKER_JOB,
    address: `${host}:${port}`,
    labels: { job: KAFKA_BROKER_JOB },
  });
}

/** The JVM argument that starts the agent with the broker. */
export function jmxAgentArgument(config: Config): string {
  return `-javaagent:${jmxAgentJar(config)}=${agentOptions(config)}`;
}

async function agentAnswers(config: Config): Promise<boolean> {
  try {
    return (await probeFetch(jmxAgentMetricsUrl(config), 2_000)).ok;
  } catch {
    return false;
  }
}

/**
 * Makes sure the broker the stack started (`pid`) serves its metrics: loads the agent into its
 * JVM when it was started without it. Only for a broker of ours, never an external one.
 */
export async function ensureJmxAgent(ctx: StackContext, pid: number): Promise<void> {
  await installJmxAgent(ctx);
  await prepareJmxAgent(ctx.config);
  if (await agentAnswers(ctx.config)) return;
  if ((await tryCommand('jcmd', ['-h'])) === undefined)
    throw new StackServiceError(
      'kafka',
      'the broker runs without the JMX agent and `jcmd` (a JDK tool) is missing to load it: install openjdk-17-jdk-headless, or restart Kafka (`stack down -s kafka && stack up`)',
    );
  ctx.report('kafka', 'loading the Prometheus JMX agent into the running broker');
  await runCommand('jcmd', [
    String(pid),
    'JVMTI.agent_load',
    jmxAgentJar(ctx.config),
    agentOptions(ctx.config),
  ]);
  await waitFor(() => agentAnswers(ctx.config), {
    timeoutMs: 30_000,
    intervalMs: 250,
    description: `the broker's JMX agent to answer at ${jmxAgentMetricsUrl(ctx.config)}`,
  });
}
