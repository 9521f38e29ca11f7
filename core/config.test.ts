import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { CONFIG_VARIABLES, loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { nativePostgresPasswordFile } from './native-postgres-password.ts';

const stateDir = (): string => mkdtempSync(nodePath.join(os.tmpdir(), 'continuum-config-'));

describe('loadConfig', () => {
  it('defaults to the local stack on the conventional ports', () => {
    const dir = stateDir();
    const config = loadConfig({ HOME: '/home/someone', CONTINUUM_STATE_DIR: dir });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.schemaRegistry.url).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    const password = readFileSync(nativePostgresPasswordFile(dir), 'utf8').trim();
    expect(config.postgres.url).toBe(`postgres://continuum:${password}@127.0.0.1:5432/continuum`);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.mongodb.url).toBe('mongodb://127.0.0.1:27017/continuum');
    expect(config.mlflow.url).toBe('http://127.0.0.1:5000');
    expect(config.prometheus.url).toBe('http://127.0.0.1:9090');
    expect(config.topics).toMatchObject({
      shipmentsCdc: 'shipments.cdc',
      shipmentState: 'shipment.state',
      partitions: 6,
    });
  });

  it("gives the native stack's PostgreSQL a generated password, the same to every process", () => {
    const dir = stateDir();
    const first = loadConfig({ CONTINUUM_STATE_DIR: dir }).postgres.url;
    const password = new URL(first).password;
    expect(password).toMatch(/^[\w-]{32}$/);
    expect(loadConfig({ CONTINUUM_STATE_DIR: dir }).postgres.url).toBe(first);
    expect(statSync(nativePostgresPasswordFile(dir)).mode & 0o777).toBe(0o600);
    expect(new URL(loadConfig({ CONTINUUM_STATE_DIR: stateDir() }).postgres.url).password).not.toBe(
      password,
    );
    // A URL from the environment is used as it is.
    const given = 'postgres://app:secret@db.example:5432/app';
    expect(
      loadConfig({ CONTINUUM_STATE_DIR: dir, CONTINUUM_POSTGRES_URL: given }).postgres.url,
    ).toBe(given);
  });

  it('reads every value from CONTINUUM_* variables', () => {
    const config = loadConfig({
      CONTINUUM_KAFKA_BROKERS: 'a:1, b:2',
      CONTINUUM_TOPIC_PARTITIONS: '12',
      CONTINUUM_API_PORT: '9000',
      CONTINUUM_CACHE_DIR: '/tmp/cache',
      CONTINUUM_MLFLOW_URL: 'https://mlflow.example:443/',
    });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.topics.partitions).toBe(12);
    expect(config.api.port).toBe(9000);
    expect(config.metricsPorts.api).toBe(9000);
    expect(config.cacheDir).toBe('/tmp/cache');
    expect(config.mlflow.url).toBe('https://mlflow.example:443');
  });

  it('puts the cache under XDG_CACHE_HOME, outside the work tree', () => {
    expect(loadConfig({ XDG_CACHE_HOME: '/var/cache/u' }).cacheDir).toBe('/var/cache/u/continuum');
  });

  it('is frozen all the way down', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true);
    expect(() => {
      (config.topics as { partitions: number }).partitions = 1;
    }).toThrow(TypeError);
  });

  it('names every bad variable and what would be valid', () => {
    let error: unknown;
    try {
      loadConfig({
        CONTINUUM_API_PORT: '70000',
        CONTINUUM_KAFKA_BROKERS: 'localhost',
        CONTINUUM_REDIS_URL: 'http://x:1',
        CONTINUUM_LOG_LEVEL: 'loud',
        CONTINUUM_TOPIC_SHIPMENT_STATE: 'bad topic!',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.variable).sort()).toEqual([
      'CONTINUUM_API_PORT',
      'CONTINUUM_KAFKA_BROKERS',
      'CONTINUUM_LOG_LEVEL',
      'CONTINUUM_REDIS_URL',
      'CONTINUUM_TOPIC_SHIPMENT_STATE',
    ]);
    const message = (error as ConfigError).message;
    expect(message).toContain(
      'CONTINUUM_API_PORT="70000": expected a TCP port number from 1 to 65535',
    );
    expect(message).toContain('expected a comma-separated list of host:port, got "localhost"');
    expect(message).toContain('expected a URL with scheme redis or rediss');
    expect(message).toContain('expected one of fatal, error, warn, info, debug, trace, silent');
  });

  it('documents every variable', () => {
    for (const [name, spec] of Object.entries(CONFIG_VARIABLES)) {
      expect(name).toMatch(/^CONTINUUM_[A-Z_]+$/);
      expect(spec.doc.length).toBeGreaterThan(5);
    }
  });
});
