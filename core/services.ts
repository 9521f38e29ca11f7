// The real services Continuum depends on: one catalog shared by the native stack, the
// docker-compose file (checked by a test) and the test harness.
import { hostPortOf, type Config, type ConfigVariable } from './config.ts';

export type ServiceName =
  'kafka' | 'schema-registry' | 'postgres' | 'redis' | 'mongodb' | 'mlflow' | 'prometheus';

/** Exporters the stack runs beside the services it measures (the broker's is inside its JVM). */
export type ExporterName = 'postgres-exporter' | 'redis-exporter';

/** The native Kafka cluster's nodes: `kafka` is node 1 (and the only one of a one-node cluster). */
export type KafkaNodeName = 'kafka' | 'kafka-2' | 'kafka-3';

/** Everything `continuum stack` starts: the services, the other Kafka nodes, then the exporters. */
export type StackServiceName = ServiceName | KafkaNodeName | ExporterName;

export interface ServiceSpec {
  name: ServiceName;
  /** What runs natively (no Docker engine) to provide it. */
  nativeImplementation: string;
  /** The variable holding its endpoint; its port is the service's port. */
  endpointVariable: ConfigVariable;
  defaultPort: number;
}

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'kafka',
    nativeImplementation: 'Apache Kafka 4.1.1 (KRaft)',
    endpointVariable: 'CONTINUUM_KAFKA_BROKERS',
    defaultPort: 9092,
  },
  {
    name: 'schema-registry',
    nativeImplementation: 'Apicurio Registry 3.0.9 (KafkaSQL, Confluent API)',
    endpointVariable: 'CONTINUUM_SCHEMA_REGISTRY_URL',
    defaultPort: 8081,
  },
  {
    name: 'postgres',
    nativeImplementation: 'PostgreSQL 15 (wal_level=logical)',
    endpointVariable: 'CONTINUUM_POSTGRES_URL',
    defaultPort: 5432,
  },
  {
    name: 'redis',
    nativeImplementation: 'Redis 7',
    endpointVariable: 'CONTINUUM_REDIS_URL',
    defaultPort: 6379,
  },
  {
    name: 'mongodb',
    nativeImplementation: 'FerretDB v1.24.2 (SQLite)',
    endpointVariable: 'CONTINUUM_MONGODB_URL',
    defaultPort: 27017,
  },
  {
    name: 'mlflow',
    nativeImplementation: 'MLflow 3.17.2 tracking server',
    endpointVariable: 'CONTINUUM_MLFLOW_URL',
    defaultPort: 5000,
  },
  {
    name: 'prometheus',
    nativeImplementation: 'Prometheus (Debian)',
    endpointVariable: 'CONTINUUM_PROMETHEUS_URL',
    defaultPort: 9090,
  },
];

export function serviceEndpoint(config: Config, name: ServiceName): string {
  switch (name) {
    case 'kafka':
      return config.kafka.brokers.join(',');
    case 'schema-registry':
      return config.schemaRegistry.url;
    case 'postgres':
      return config.postgres.url;
    case 'redis':
      return config.redis.url;
    case 'mongodb':
      return config.mongodb.url;
    case 'mlflow':
      return config.mlflow.url;
    case 'prometheus':
      return config.prometheus.url;
  }
}

/** Host and port a service listens on, read from its configured endpoint. */
export function serviceAddress(config: Config, name: ServiceName): { host: string; port: number } {
  const spec = SERVICES.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown service ${name}`);
  const endpoint =
    name === 'kafka' ? (config.kafka.brokers[0] ?? '') : serviceEndpoint(config, name);
  return hostPortOf(endpoint, spec.defaultPort);
}
