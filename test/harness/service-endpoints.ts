// Where the tests' real services are: from the environment when it names them all, else
// containers when a Docker engine answers, else the native stack (started when not running).
import type { Config, ConfigVariable } from '../../core/config.ts';
import { SERVICES } from '../../core/services.ts';

export type EndpointSource = 'environment' | 'testcontainers' | 'native';

export interface TestServices {
  source: EndpointSource;
  /** Variables to put into every test worker's environment. */
  env: Record<string, string>;
  /** Stops what this run started (nothing when the services were already there). */
  stop: () => Promise<void>;
}

export const ENDPOINT_VARIABLES: readonly ConfigVariable[] = SERVICES.map(
  (s) => s.endpointVariable,
);

/** Chooses where services come from. CONTINUUM_TEST_SERVICES forces a source. */
export function chooseSource(
  env: Readonly<Record<string, string | undefined>>,
  dockerAnswers: () => Promise<boolean>,
): Promise<EndpointSource> {
  const forced = env.CONTINUUM_TEST_SERVICES;
  if (forced === 'environment' || forced === 'testcontainers' || forced === 'native')
    return Promise.resolve(forced);
  if (forced !== undefined && forced !== '') {
    throw new Error(
      `CONTINUUM_TEST_SERVICES=${forced}: expected environment, testcontainers or native`,
    );
  }
  if (ENDPOINT_VARIABLES.every((name) => env[name])) return Promise.resolve('environment');
  return dockerAnswers().then((yes) => (yes ? 'testcontainers' : 'native'));
}

export function endpointEnv(config: Config): Record<string, string> {
  return {
    CONTINUUM_KAFKA_BROKERS: config.kafka.brokers.join(','),
    CONTINUUM_SCHEMA_REGISTRY_URL: config.schemaRegistry.url,
    CONTINUUM_POSTGRES_URL: config.postgres.url,
    CONTINUUM_REDIS_URL: config.redis.url,
    CONTINUUM_MONGODB_URL: config.mongodb.url,
    CONTINUUM_MLFLOW_URL: config.mlflow.url,
    CONTINUUM_PROMETHEUS_URL: config.prometheus.url,
  };
}
