// Real services as containers, for machines with a Docker engine. Every container shares the
// host's network and listens on a free loopback port, so advertised addresses (Kafka) and
// scrape targets (Prometheus → a test's server on 127.0.0.1) work without port mapping.
// This path cannot run on machines without Docker (our CI); the native stack serves there.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { stringify } from 'yaml';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { NATIVE_SERVICES } from '../../compose/native/native-stack.ts';
import { TIMESTAMP_AFTER_MAX_MS } from '../../compose/native/services/kafka.ts';
import type { TestServices } from './service-endpoints.ts';
import { freePort } from '../support/free-port.ts';

export async function startContainerServices(): Promise<TestServices> {
  const [kafka, controller, registry, postgres, redis, mongo, mlflow, prometheus] =
    await Promise.all(Array.from({ length: 8 }, () => freePort()));
  const targetsDir = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-prom-targets-'));
  const env: Record<string, string> = {
    CONTINUUM_KAFKA_BROKERS: `127.0.0.1:${kafka}`,
    CONTINUUM_SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registry}/apis/ccompat/v7`,
    CONTINUUM_POSTGRES_URL: `postgres://continuum@127.0.0.1:${postgres}/continuum`,
    CONTINUUM_REDIS_URL: `redis://127.0.0.1:${redis}`,
    CONTINUUM_MONGODB_URL: `mongodb://127.0.0.1:${mongo}/continuum`,
    CONTINUUM_MLFLOW_URL: `http://127.0.0.1:${mlflow}`,
    CONTINUUM_PROMETHEUS_URL: `http://127.0.0.1:${prometheus}`,
    CONTINUUM_TEST_PROMETHEUS_TARGETS_DIR: targetsDir,
    CONTINUUM_TEST_SCRAPE_HOST: '127.0.0.1',
  };
  const host = (image: string): GenericContainer =>
    new GenericContainer(image).withNetworkMode('host');
  const promConfig = {
    global: { scrape_interval: '5s' },
    scrape_configs: [
      {
        job_name: 'continuum-dynamic',
        file_sd_configs: [{ files: ['/targets/*.json'], refresh_interval: '5s' }],
      },
    ],
  };
  const started: StartedTestContainer[] = [];
  const start = async (container: GenericContainer): Promise<void> => {
    started.push(await container.start());
  };
  try {
    await start(
      host('apache/kafka:4.1.1').withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${controller}`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafka}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: `1@127.0.0.1:${controller}`,
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_LOG_MESSAGE_TIMESTAMP_AFTER_MAX_MS: TIMESTAMP_AFTER_MAX_MS,
      }),
    );
    await Promise.all([
      start(
        host('apicurio/apicurio-registry:3.0.9').withEnvironment({
          QUARKUS_HTTP_HOST: '127.0.0.1',
          QUARKUS_HTTP_PORT: String(registry),
          APICURIO_STORAGE_KIND: 'kafkasql',
          APICURIO_KAFKASQL_BOOTSTRAP_SERVERS: `127.0.0.1:${kafka}`,
        }),
      ),
      start(
        host('postgres:15')
          .withEnvironment({
            POSTGRES_USER: 'continuum',
            POSTGRES_DB: 'continuum',
            POSTGRES_HOST_AUTH_METHOD: 'trust',
          })
          .withCommand([
            'postgres',
            '-c',
            'wal_level=logical',
            '-c',
            `port=${postgres}`,
            '-c',
            'listen_addresses=127.0.0.1',
          ]),
      ),
      start(
        host('redis:7').withCommand([
          'redis-server',
          '--bind',
          '127.0.0.1',
          '--port',
          String(redis),
        ]),
      ),
      start(
        host('mongo:7').withCommand(['mongod', '--bind_ip', '127.0.0.1', '--port', String(mongo)]),
      ),
      start(
        host('ghcr.io/mlflow/mlflow:v3.1.1').withCommand([
          'mlflow',
          'server',
          '--host',
          '127.0.0.1',
          '--port',
          String(mlflow),
          '--backend-store-uri',
          'sqlite:////tmp/mlflow.db',
          '--artifacts-destination',
          '/tmp/artifacts',
        ]),
      ),
      start(
        host('prom/prometheus:v2.53.0')
          .withCopyContentToContainer([
            { content: stringify(promConfig), target: '/etc/prometheus/prometheus.yml' },
          ])
          .withBindMounts([{ source: targetsDir, target: '/targets', mode: 'ro' }])
          .withCommand([
            '--config.file=/etc/prometheus/prometheus.yml',
            `--web.listen-address=127.0.0.1:${prometheus}`,
          ]),
      ),
    ]);
    // Ready means the same real request the native stack's probes make.
    const config = loadConfig({ ...process.env, ...env });
    const ctx = { config, log: createLogger('warn'), report: () => undefined };
    await Promise.all(
      NATIVE_SERVICES.map((service) =>
        waitFor(async () => (await service.probe(ctx)).ok, {
          timeoutMs: 180_000,
          intervalMs: 500,
          description: `${service.name} container to be ready`,
        }),
      ),
    );
  } catch (err) {
    await Promise.all(started.map((c) => c.stop()));
    throw err;
  }
  return {
    source: 'testcontainers',
    env,
    stop: async () => {
      await Promise.all(started.map((c) => c.stop()));
      await rm(targetsDir, { recursive: true, force: true });
    },
  };
}
