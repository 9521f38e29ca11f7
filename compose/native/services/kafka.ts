// Apache Kafka 4.1, KRaft, one combined broker+controller, from the jars on Maven Central.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { ensurePlatformTopics } from '../../../core/ensure-platform-topics.ts';
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

function serverProperties(config: Config, dataDir: string): string {
  const { host, port } = hostPortOf(config.kafka.brokers[0] ?? '127.0.0.1:9092', 9092);
  const controller = config.kafka.controllerPort;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${controller}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controller}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    `num.partitions=${config.topics.partitions}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=12',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=12',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // One broker: a new consumer group should not wait 3 s for members that will never come.
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

export function kafkaClient(config: Config, clientId: string): Kafka {
  return new Kafka({
    clientId: `${config.kafka.clientId}-${clientId}`,
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
}

export const kafkaService: NativeService = {
  name: 'kafka',
  dependsOn: [],
  url: (config) => config.kafka.brokers.join(','),

  async install(ctx) {
    await installJmxAgent(ctx);
    const lib = libDir(ctx.config);
    const marker = nodePath.join(lib, '.complete');
    if (existsSync(marker)) return;
    const home = nodePath.dirname(lib);
    await mkdir(home, { recursive: true });
    await writeFile(nodePath.join(home, 'pom.xml'), pom());
    ctx.report('kafka', `downloading Kafka ${KAFKA_VERSION} jars from Maven Central`);
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
    const paths = servicePaths(ctx.config, 'kafka');
    await mkdir(paths.dataDir, { recursive: true });
    const properties = nodePath.join(paths.dir, 'server.properties');
    await writeFile(properties, serverProperties(ctx.config, paths.dataDir));
    await writeFile(nodePath.join(paths.dir, 'log4j2.yaml'), LOG4J2);
    await prepareJmxAgent(ctx.config);
    if (existsSync(nodePath.join(paths.dataDir, 'meta.properties'))) return;
    ctx.report('kafka', 'formatting KRaft storage');
    const classpath = `${libDir(ctx.config)}/*`;
    const clusterId =
      (await runCommand('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid']))
        .trim()
        .split('\n')
        .pop() ?? '';
    await runCommand('java', [
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      properties,
    ]);
  },

  launch(ctx) {
    const paths = servicePaths(ctx.config, 'kafka');
    return {
      command: 'java',
      args: [
        '-Xms256m',
        '-Xmx1g',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${nodePath.join(paths.dir, 'log4j2.yaml')}`,
        `-Dkafka.logs.dir=${paths.dir}`,
        jmxAgentArgument(ctx.config),
        '-cp',
        `${libDir(ctx.config)}/*`,
        'kafka.Kafka',
        nodePath.join(paths.dir, 'server.properties'),
      ],
      cwd: paths.dir,
    };
  },

  async probe(ctx) {
    const admin = kafkaClient(ctx.config, 'stack-probe').admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return {
        ok: cluster.brokers.length > 0,
        version: KAFKA_VERSION,
        detail: `cluster ${cluster.clusterId}`,
      };
    } finally {
      await admin.disconnect();
    }
  },

  async afterReady(ctx) {
    await ensureTopics(ctx);
  },

  whenReused: (ctx, pid) => ensureJmxAgent(ctx, pid),
};

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
