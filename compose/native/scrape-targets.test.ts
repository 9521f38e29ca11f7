import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { nativePostgresPassword } from '../../core/native-postgres-password.ts';
import { loadConfig } from '../../core/config.ts';
import { scrapeTargetFile } from './scrape-targets.ts';
import { postgresExporterService } from './services/postgres-exporter.ts';
import { redisExporterService } from './services/redis-exporter.ts';
import { jmxAgentArgument, jmxAgentJar, prepareJmxAgent } from './services/kafka-jmx-agent.ts';
import { kafkaNode, kafkaNodes } from './services/kafka-nodes.ts';

describe('exporters of the native stack', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-exporters-unit-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('tell Prometheus where to scrape them through its file_sd folder, on their ports', async () => {
    const config = loadConfig({
      CONTINUUM_STATE_DIR: stateDir,
      CONTINUUM_POSTGRES_EXPORTER_PORT: '19187',
      CONTINUUM_REDIS_EXPORTER_PORT: '19121',
      CONTINUUM_KAFKA_METRICS_PORT: '19404',
    });
    const ctx = { config, log: undefined as never, report: () => undefined };
    await postgresExporterService.prepare(ctx);
    await redisExporterService.prepare(ctx);
    await prepareJmxAgent(config, kafkaNode(config, 1));
    const read = async (name: string): Promise<unknown> =>
      JSON.parse(await readFile(scrapeTargetFile(config, name), 'utf8'));
    expect(await read('postgres-exporter')).toEqual([
      { targets: ['127.0.0.1:19187'], labels: { job: 'postgres-exporter' } },
    ]);
    expect(await read('redis-exporter')).toEqual([
      { targets: ['127.0.0.1:19121'], labels: { job: 'redis-exporter' } },
    ]);
    expect(await read('kafka-broker')).toEqual([
      { targets: ['127.0.0.1:19404'], labels: { job: 'kafka-broker', node: '1' } },
    ]);
    expect(scrapeTargetFile(config, 'x')).toBe(
      nodePath.join(stateDir, 'prometheus', 'targets', 'x.json'),
    );
  });

  it('start the JMX agent with the broker, on its port, with the rules copied beside the broker', async () => {
    const config = loadConfig({
      CONTINUUM_STATE_DIR: stateDir,
      CONTINUUM_KAFKA_METRICS_PORT: '19404',
    });
    await prepareJmxAgent(config, kafkaNode(config, 1));
    const rules = nodePath.join(stateDir, 'kafka', 'jmx-exporter.yaml');
    expect(jmxAgentArgument(config, kafkaNode(config, 1))).toBe(
      `-javaagent:${jmxAgentJar(config)}=127.0.0.1:19404:${rules}`,
    );
    expect(await readFile(rules, 'utf8')).toMatch(/kafka_server_brokertopicmetrics_\$1_total/);
  });

  it('give every node of a three-node cluster its own agent port and target; one node drops the others', async () => {
    const three = loadConfig({
      CONTINUUM_STATE_DIR: stateDir,
      CONTINUUM_KAFKA_NODES: '3',
      CONTINUUM_KAFKA_METRICS_PORT: '19404',
    });
    for (const node of kafkaNodes(three)) await prepareJmxAgent(three, node);
    const read = async (name: string): Promise<unknown> =>
      JSON.parse(await readFile(scrapeTargetFile(three, name), 'utf8'));
    expect(await read('kafka-broker-3')).toEqual([
      { targets: ['127.0.0.1:19604'], labels: { job: 'kafka-broker', node: '3' } },
    ]);
    expect(jmxAgentArgument(three, kafkaNode(three, 2))).toBe(
      `-javaagent:${jmxAgentJar(three)}=127.0.0.1:19504:${nodePath.join(stateDir, 'kafka-2', 'jmx-exporter.yaml')}`,
    );
    const one = loadConfig({ CONTINUUM_STATE_DIR: stateDir, CONTINUUM_KAFKA_NODES: '1' });
    await prepareJmxAgent(one, kafkaNode(one, 1));
    expect(existsSync(scrapeTargetFile(one, 'kafka-broker-2'))).toBe(false);
    expect(existsSync(scrapeTargetFile(one, 'kafka-broker-3'))).toBe(false);
  });

  it('run each exporter against the service it measures, on loopback', async () => {
    const config = loadConfig({ CONTINUUM_STATE_DIR: stateDir });
    const ctx = { config, log: undefined as never, report: () => undefined };
    const pg = await postgresExporterService.launch(ctx);
    expect(pg.args).toContain('--web.listen-address=127.0.0.1:9187');
    const password = nativePostgresPassword(stateDir);
    expect(pg.env?.DATA_SOURCE_NAME).toBe(
      `postgresql://postgres:${password}@127.0.0.1:5432/continuum?sslmode=disable`,
    );
    expect(pg.args.join(' ')).not.toContain(password);
    const redis = await redisExporterService.launch(ctx);
    expect(redis.args).toEqual([
      '-redis.addr',
      'redis://127.0.0.1:6379',
      '-web.listen-address',
      '127.0.0.1:9121',
    ]);
    expect(postgresExporterService.dependsOn).toEqual(['postgres']);
    expect(redisExporterService.dependsOn).toEqual(['redis']);
  });
});
