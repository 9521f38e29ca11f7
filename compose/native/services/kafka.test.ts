import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { loadConfig } from '../../../core/config.ts';
import { StackServiceError } from '../../../core/errors.ts';
import { kafkaClusterFile, recordedKafkaCluster } from '../../../core/kafka-cluster.ts';
import { nativeStackServices } from '../native-stack.ts';
import { kafkaNodeService, serverProperties } from './kafka.ts';
import { kafkaNode, kafkaNodes } from './kafka-nodes.ts';

function propertiesOf(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('the native Kafka cluster', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-kafka-unit-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('of three nodes: each its own ports, one quorum, replication 3 and min.insync.replicas 2 everywhere', () => {
    const config = loadConfig({ CONTINUUM_STATE_DIR: stateDir, CONTINUUM_KAFKA_NODES: '3' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9192', '127.0.0.1:9292']);
    expect(kafkaNodes(config).map((n) => n.name)).toEqual(['kafka', 'kafka-2', 'kafka-3']);
    const second = propertiesOf(serverProperties(kafkaNode(config, 2), 6, '/data/2'));
    expect(second.get('node.id')).toBe('2');
    expect(second.get('controller.quorum.voters')).toBe(
      '1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293',
    );
    expect(second.get('listeners')).toBe('PLAINTEXT://127.0.0.1:9192,CONTROLLER://127.0.0.1:9193');
    expect(second.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:9192');
    expect(second.get('log.dirs')).toBe('/data/2');
    for (const key of [
      'default.replication.factor',
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
    ])
      expect([key, second.get(key)]).toEqual([key, '3']);
    for (const key of ['min.insync.replicas', 'transaction.state.log.min.isr'])
      expect([key, second.get(key)]).toEqual([key, '2']);
    expect(second.get('unclean.leader.election.enable')).toBe('false');
    expect(nativeStackServices(config).map((s) => s.name)).toEqual(
      expect.arrayContaining(['kafka', 'kafka-2', 'kafka-3', 'schema-registry']),
    );
  });

  it('of one node: replication 1, and no other nodes in the stack', () => {
    const config = loadConfig({ CONTINUUM_STATE_DIR: stateDir });
    expect(config.kafka.nodes).toBe(1);
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    const only = propertiesOf(serverProperties(kafkaNode(config, 1), 6, '/data'));
    expect(only.get('controller.quorum.voters')).toBe('1@127.0.0.1:9093');
    expect(only.get('default.replication.factor')).toBe('1');
    expect(only.get('min.insync.replicas')).toBe('1');
    expect(only.get('transaction.state.log.min.isr')).toBe('1');
    expect(nativeStackServices(config).map((s) => s.name)).not.toContain('kafka-2');
  });

  it('keeps the size its data was created with: every later process bootstraps from every node', async () => {
    await mkdir(nodePath.join(stateDir, 'kafka'), { recursive: true });
    await writeFile(kafkaClusterFile(stateDir), JSON.stringify({ clusterId: 'abc', nodes: 3 }));
    const config = loadConfig({ CONTINUUM_STATE_DIR: stateDir });
    expect(config.kafka.nodes).toBe(3);
    expect(config.kafka.brokers).toHaveLength(3);
    // An explicit bootstrap list is used as it is.
    const explicit = loadConfig({
      CONTINUUM_STATE_DIR: stateDir,
      CONTINUUM_KAFKA_BROKERS: 'broker:29092',
    });
    expect(explicit.kafka.brokers).toEqual(['broker:29092']);
  });

  it('refuses to start three nodes on one node’s data, naming the way out', async () => {
    // Storage formatted before clusters were recorded: a one-node cluster.
    const dataDir = nodePath.join(stateDir, 'kafka', 'data');
    await mkdir(dataDir, { recursive: true });
    await writeFile(
      nodePath.join(dataDir, 'meta.properties'),
      'version=1\ncluster.id=q1Sh-9_ISia_zwGINzRvyQ\nnode.id=1\n',
    );
    const config = loadConfig({ CONTINUUM_STATE_DIR: stateDir, CONTINUUM_KAFKA_NODES: '3' });
    const ctx = { config, log: undefined as never, report: () => undefined };
    const failure = await kafkaNodeService(2)
      .prepare(ctx)
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StackServiceError);
    expect((failure as Error).message).toMatch(/1-node cluster, and 3 node\(s\) were asked for/);
    expect((failure as Error).message).toContain('stack up --brokers 3');
    // The one-node cluster is recorded as what it is.
    expect(recordedKafkaCluster(stateDir)).toEqual({
      clusterId: 'q1Sh-9_ISia_zwGINzRvyQ',
      nodes: 1,
    });
    expect(JSON.parse(await readFile(kafkaClusterFile(stateDir), 'utf8'))).toMatchObject({
      nodes: 1,
    });
  });
});
