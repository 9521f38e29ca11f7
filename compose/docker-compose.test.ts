// docker-compose.yml must run what the native stack runs: the same services at the same
// versions, the same CONTINUUM_* variables, topics and metrics ports; and it is locked down:
// the services on an internal network, only the API/UI and Grafana published (MLflow with
// compose/mlflow-published.yml), every password from .env. Kafka runs as one node, or as the
// three of compose/three-brokers.env (the `three-brokers` profile), each shape as the native
// stack's. These machines have no Docker engine, so the files are parsed, interpolated as
// Compose does, and cross-checked against core/services.ts and core/config.ts instead of run.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import nodePath from 'node:path';
import { parse } from 'yaml';
import {
  CONFIG_VARIABLES,
  defaultOf,
  hostPortOf,
  loadConfig,
  type ConfigVariable,
} from '../core/config.ts';
import { kafkaReplication } from '../core/kafka-cluster.ts';
import { repoRoot } from '../core/paths.ts';
import { SERVICES } from '../core/services.ts';
import { platformTopics } from '../core/topics.ts';
import { KAFKA_VERSION, TIMESTAMP_AFTER_MAX_MS } from './native/services/kafka.ts';
import { JMX_AGENT_VERSION, KAFKA_BROKER_JOB } from './native/services/kafka-jmx-agent.ts';
import { MLFLOW_VERSION } from './native/services/mlflow.ts';
import { POSTGRES_EXPORTER, POSTGRES_EXPORTER_JOB } from './native/services/postgres-exporter.ts';
import { REDIS_EXPORTER, REDIS_EXPORTER_JOB } from './native/services/redis-exporter.ts';
import { APICURIO_VERSION } from './native/services/schema-registry.ts';

type Scalar = string | number | boolean | null;

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, Scalar> | string[];
  ports?: (string | number | { host_ip?: string; published?: string | number; target?: number })[];
  expose?: (string | number)[];
  networks?: string[] | Record<string, unknown>;
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  restart?: string;
  profiles?: string[];
}

interface ComposeFile {
  services?: Record<string, ComposeService>;
  networks?: Record<string, { internal?: boolean; external?: boolean } | null>;
  volumes?: Record<string, unknown> | null;
}

interface PrometheusConfig {
  global?: { scrape_interval?: string };
  rule_files?: string[];
  scrape_configs?: {
    job_name: string;
    scrape_interval?: string;
    static_configs?: { targets?: string[]; labels?: Record<string, string> }[];
    file_sd_configs?: { files?: string[] }[];
    dns_sd_configs?: { names?: string[]; type?: string; port?: number }[];
    relabel_configs?: { source_labels?: string[]; target_label?: string; action?: string }[];
  }[];
}

interface GrafanaPanel {
  title?: string;
  datasource?: { type?: string; uid?: string } | string | null;
  targets?: { expr?: unknown; datasource?: { uid?: string } }[];
  panels?: GrafanaPanel[];
}

/** Processes whose metrics server also answers /ready (core/metrics-server.ts `readiness`). */
const READY_PROCESSES = new Set([
  'streams',
  'connect',
  'ml',
  'sink-redis',
  'sink-postgres',
  'sink-mongodb',
  'lag',
]);

/** The platform's processes and the variable holding the port their /metrics is served on. */
const PROCESSES = [
  { name: 'api', portVariable: 'CONTINUUM_API_PORT', command: ['api'] },
  { name: 'streams', portVariable: 'CONTINUUM_STREAMS_METRICS_PORT', command: ['streams'] },
  { name: 'connect', portVariable: 'CONTINUUM_CONNECT_METRICS_PORT', command: ['connect', 'cdc'] },
  { name: 'ml', portVariable: 'CONTINUUM_ML_METRICS_PORT', command: ['ml'] },
  { name: 'lag', portVariable: 'CONTINUUM_LAG_METRICS_PORT', command: ['lag'] },
  {
    name: 'sink-redis',
    portVariable: 'CONTINUUM_CONNECT_METRICS_PORT',
    command: ['connect', 'redis'],
  },
  {
    name: 'sink-postgres',
    portVariable: 'CONTINUUM_CONNECT_METRICS_PORT',
    command: ['connect', 'postgres'],
  },
  {
    name: 'sink-mongodb',
    portVariable: 'CONTINUUM_CONNECT_METRICS_PORT',
    command: ['connect', 'mongodb'],
  },
] as const satisfies readonly {
  name: string;
  portVariable: ConfigVariable;
  command: readonly string[];
}[];

/** What the exporters measure, and the native stack's constants they must match. */
const EXPORTERS = [
  {
    name: 'postgres-exporter',
    version: POSTGRES_EXPORTER.version,
    portVariable: 'CONTINUUM_POSTGRES_EXPORTER_PORT',
    job: POSTGRES_EXPORTER_JOB,
    measured: 'postgres',
  },
  {
    name: 'redis-exporter',
    version: REDIS_EXPORTER.version,
    portVariable: 'CONTINUUM_REDIS_EXPORTER_PORT',
    job: REDIS_EXPORTER_JOB,
    measured: 'redis',
  },
] as const satisfies readonly {
  name: string;
  version: string;
  portVariable: ConfigVariable;
  job: string;
  measured: string;
}[];

/** The only ports the host reaches: the API (which serves the UI too) and Grafana. */
const PUBLISHED = [
  { name: 'api', port: Number(defaultOf('CONTINUUM_API_PORT')) },
  { name: 'grafana', port: 3000 },
];

/** The internal network of the services and processes, and the one the host reaches. */
const DATA_NETWORK = 'data';
const EDGE_NETWORK = 'edge';

/**
 * Exact versions of the native stack's services that have no constant to import: Debian
 * bookworm's Redis (compose/native/services/redis.ts runs the distribution's redis-server), and
 * the first MongoDB 7.0 release with the fix for CVE-2025-14847 ("MongoBleed").
 */
const NATIVE_REDIS_VERSION = '7.0.15';
const MONGODB_MINIMUM_VERSION = '7.0.28';

/**
 * An exact version tag, never `latest` or a bare major: `x.y.z` (a `v` prefix allowed); for
 * PostgreSQL `major.minor`, which since PostgreSQL 10 is an exact release (15.18).
 */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+$/;
const EXACT_POSTGRES_VERSION = /^\d+\.\d+$/;
const exactVersionOf = (name: string): RegExp =>
  name === 'postgres' ? EXACT_POSTGRES_VERSION : EXACT_VERSION;

/** Metric families the dashboard must chart (what the processes export). */
const DASHBOARD_METRICS = [
  'kafka_consumergroup_lag',
  'continuum_records_processed_total',
  'continuum_freshness_seconds_bucket',
  'continuum_dlq_records_total',
  'continuum_http_requests_total',
  'continuum_commit_seconds_bucket',
  'continuum_restore_seconds_bucket',
  'continuum_transaction_aborts_total',
  'continuum_repartition_purges_total',
];

const read = (relative: string): string => readFileSync(nodePath.join(repoRoot, relative), 'utf8');

const composeText = read('docker-compose.yml');
// Merge keys (`<<: *anchor`) are YAML 1.1, which Docker Compose applies: so must we.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = compose.services ?? {};
const prometheusConfig = parse(read('compose/prometheus/prometheus.yml')) as PrometheusConfig;
const mlflowOverride = parse(read('compose/mlflow-published.yml'), { merge: true }) as ComposeFile;

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

function environmentOf(svc: ComposeService): Record<string, string> {
  const env = svc.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line): [string, string] => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(env).map(([k, v]): [string, string] => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries);
}

interface PortMapping {
  hostIp: string | undefined;
  published: number | undefined;
  target: number;
}

function portsOf(svc: ComposeService): PortMapping[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'number') return { hostIp: undefined, published: undefined, target: port };
    if (typeof port === 'object') {
      return {
        hostIp: port.host_ip,
        published: port.published === undefined ? undefined : Number(port.published),
        target: Number(port.target),
      };
    }
    const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.at(-1));
    if (parts.length === 1) return { hostIp: undefined, published: undefined, target };
    const published = Number(parts.at(-2));
    return {
      hostIp: parts.length >= 3 ? parts.slice(0, -2).join(':') : undefined,
      published,
      target,
    };
  });
}

/** Container ports a service declares with `expose:` (to the other containers only). */
function exposedOf(svc: ComposeService): number[] {
  return (svc.expose ?? []).map((port) => Number(String(port).replace(/\/(tcp|udp)$/, '')));
}

/** The networks a service names, or undefined when it names none (the implicit default). */
function networksOf(svc: ComposeService): string[] | undefined {
  const { networks } = svc;
  if (networks === undefined) return undefined;
  return Array.isArray(networks) ? networks : Object.keys(networks);
}

/** The tag of an image reference (`name:tag`), '' when it has none. */
function tagOf(image: string | undefined): string {
  const match = /:([^:/]+)$/.exec(image ?? '');
  return match?.[1] ?? '';
}

/** Compares two `x.y.z` versions (a leading `v` ignored): negative, zero or positive. */
function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.replace(/^v/, '').split('.').map(Number);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The major version a service's native implementation names, e.g. 15 of "PostgreSQL 15 …". */
function nativeMajorOf(name: string, product: string): number {
  const spec = SERVICES.find((s) => s.name === name);
  return Number(new RegExp(`${product} (\\d+)`).exec(spec?.nativeImplementation ?? '')?.[1]);
}

function dependenciesOf(svc: ComposeService): Record<string, string> {
  const deps = svc.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']),
  );
}

/** The healthcheck command as one string, or undefined when there is none (or it is disabled). */
function healthcheckOf(svc: ComposeService): string | undefined {
  const check = svc.healthcheck;
  if (!check || check.disable === true || check.test === undefined) return undefined;
  const test = Array.isArray(check.test) ? check.test : ['CMD-SHELL', check.test];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  return test.slice(1).join(' ');
}

function commandOf(svc: ComposeService): string[] {
  const { command } = svc;
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

interface Mount {
  kind: 'named' | 'bind' | 'anonymous';
  source: string;
  target: string;
}

function mountsOf(svc: ComposeService): Mount[] {
  return (svc.volumes ?? []).map((volume): Mount => {
    if (typeof volume === 'object') {
      const source = volume.source ?? '';
      const kind = volume.type === 'bind' ? 'bind' : source ? 'named' : 'anonymous';
      return { kind, source, target: volume.target ?? '' };
    }
    const [source = '', target] = volume.split(':');
    if (target === undefined) return { kind: 'anonymous', source: '', target: source };
    const kind = /^[./~]/.test(source) ? 'bind' : 'named';
    return { kind, source, target };
  });
}

/** `${NAME…}` and `$NAME` interpolations Compose will perform (`$$` is a literal dollar). */
function interpolationsIn(text: string): { name: string; modifier: string }[] {
  const unescaped = text.replaceAll('$$', '');
  return [
    ...unescaped.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g),
  ].map((m) => ({ name: m[1] ?? m[3] ?? '', modifier: m[2] ?? '' }));
}

/** The value after interpolation: its `:-default` if it has one, a placeholder otherwise. */
function interpolate(value: string): string {
  return value
    .replaceAll('$$', '$')
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?[^}]*\}/g, (_, fallback?: string) =>
      fallback === undefined ? 'placeholder' : fallback,
    );
}

/** The host:port endpoints a Kafka service advertises, by listener. */
function advertisedListeners(svc: ComposeService): string[] {
  const raw = environmentOf(svc).KAFKA_ADVERTISED_LISTENERS ?? '';
  return raw
    .split(',')
    .map((listener) => listener.replace(/^[A-Z_]+:\/\//, '').trim())
    .filter(Boolean);
}

function isConfigVariable(name: string): name is ConfigVariable {
  return Object.hasOwn(CONFIG_VARIABLES, name);
}

type Env = Record<string, string>;

/**
 * A value as Compose interpolates it with `env`: `$$` is a literal dollar; `${NAME}` and
 * `$NAME` the value ('' when unset); `${NAME:-default}` the default when unset or empty (`-`:
 * unset only); `${NAME:?error}` fails when unset or empty (`?`: unset only); `${NAME:+other}`
 * the other when set and not empty (`+`: set).
 */
function interpolateWith(value: string, env: Env): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      match: string,
      braced: string | undefined,
      colon: string | undefined,
      operator: string | undefined,
      word: string | undefined,
      bare: string | undefined,
    ): string => {
      if (match === '$$') return '$';
      const name = braced ?? bare ?? '';
      const current = env[name];
      const set = colon === ':' ? current !== undefined && current !== '' : current !== undefined;
      if (operator === '-') return set ? (current ?? '') : (word ?? '');
      if (operator === '+') return set ? (word ?? '') : '';
      if (operator === '?' && !set) throw new Error(`${name} is required: ${word ?? ''}`);
      return current ?? '';
    },
  );
}

/** Every string of a parsed Compose file interpolated (values only, as Compose: not keys). */
function interpolateAll<T>(node: T, env: Env): T {
  if (typeof node === 'string') return interpolateWith(node, env) as T;
  if (Array.isArray(node)) return node.map((item: unknown) => interpolateAll(item, env)) as T;
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, interpolateAll(value as unknown, env)]),
    ) as T;
  }
  return node;
}

/** The variables an env file sets: `NAME=value` lines; blank lines and `#` comments skipped. */
function envFileOf(relative: string): Env {
  return Object.fromEntries(
    read(relative)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line): [string, string] => {
        const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (!match) throw new Error(`${relative}: not a NAME=value line: ${line}`);
        return [match[1] ?? '', match[2] ?? ''];
      }),
  );
}

/** What `docker compose` runs with some variables: the file interpolated, the active profiles' services. */
interface Shape {
  name: string;
  env: Env;
  compose: ComposeFile;
  /** The services Compose starts: those without profiles, and those of an active profile. */
  services: Record<string, ComposeService>;
}

function shapeOf(name: string, env: Env): Shape {
  const resolved = interpolateAll(compose, env);
  const profiles = (env.COMPOSE_PROFILES ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const enabled = Object.entries(resolved.services ?? {}).filter(
    ([, svc]) => svc.profiles === undefined || svc.profiles.some((p) => profiles.includes(p)),
  );
  return { name, env, compose: resolved, services: Object.fromEntries(enabled) };
}

/** A service of a shape (it must be one the shape starts). */
function serviceIn(shape: Shape, name: string): ComposeService {
  const found = shape.services[name];
  if (!found) throw new Error(`${shape.name}: no service "${name}"`);
  return found;
}

/**
 * The dependencies Compose keeps in a shape: an optional one (`required: false`) on a service
 * the shape leaves out is dropped; a required one stays (and names a service that is not there).
 */
function dependenciesIn(shape: Shape, svc: ComposeService): Record<string, string> {
  const deps = svc.depends_on ?? [];
  if (Array.isArray(deps)) return dependenciesOf(svc);
  return Object.fromEntries(
    Object.entries(deps)
      .filter(([name, d]) => shape.services[name] !== undefined || d.required !== false)
      .map(([name, d]) => [name, d.condition ?? 'service_started']),
  );
}

/** The Kafka nodes a shape runs (every service whose KRaft roles include the broker's), by node id. */
function brokersOf(shape: Shape): { name: string; nodeId: number; env: Record<string, string> }[] {
  return Object.entries(shape.services)
    .map(([name, svc]) => ({ name, env: environmentOf(svc) }))
    .filter(({ env }) => (env.KAFKA_PROCESS_ROLES ?? '').split(',').includes('broker'))
    .map(({ name, env }) => ({ name, nodeId: Number(env.KAFKA_NODE_ID), env }))
    .sort((a, b) => a.nodeId - b.nodeId);
}

/** `controller.quorum.voters`: `id@host:port,…`. */
function votersOf(raw: string | undefined): { nodeId: number; host: string; port: number }[] {
  return (raw ?? '').split(',').map((voter) => {
    const match = /^(\d+)@([^:]+):(\d+)$/.exec(voter.trim());
    if (!match) throw new Error(`not a quorum voter: "${voter}"`);
    return { nodeId: Number(match[1]), host: match[2] ?? '', port: Number(match[3]) };
  });
}

/** A service's entrypoint and command as one script. */
function scriptOf(svc: ComposeService): string {
  return [
    ...(Array.isArray(svc.entrypoint) ? svc.entrypoint : [svc.entrypoint ?? '']),
    ...(Array.isArray(svc.command) ? svc.command : [svc.command ?? '']),
  ].join('\n');
}

/** A copy of an object without some of its keys. */
function without<T extends object>(value: T, keys: readonly string[]): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([key]) => !keys.includes(key)),
  ) as Partial<T>;
}

/**
 * What Prometheus scrapes as the broker (the native stack's job name): its static targets, and
 * those of the file_sd files a shape mounts into the Prometheus container.
 */
function kafkaScrapeTargets(shape: Shape): { target: string; node: string | undefined }[] {
  const job = prometheusConfig.scrape_configs?.find((j) => j.job_name === KAFKA_BROKER_JOB);
  const statics = (job?.static_configs ?? []).flatMap((c) =>
    (c.targets ?? []).map((target) => ({ target, node: c.labels?.node })),
  );
  const prometheus = serviceIn(shape, 'prometheus');
  const fromFiles = (job?.file_sd_configs ?? [])
    .flatMap((c) => c.files ?? [])
    .flatMap((file) => {
      const mount = mountsOf(prometheus).find((m) => m.kind === 'bind' && m.target === file);
      if (!mount) throw new Error(`${shape.name}: ${file} is not mounted into prometheus`);
      const groups = parse(read(mount.source)) as {
        targets?: string[];
        labels?: Record<string, string>;
      }[];
      return groups.flatMap((g) =>
        (g.targets ?? []).map((target) => ({ target, node: g.labels?.node })),
      );
    });
  return [...statics, ...fromFiles];
}

/** The variables of compose/three-brokers.env, and those of .env as .env.example has them. */
const exampleEnv = envFileOf('.env.example');
const threeBrokersEnv = envFileOf('compose/three-brokers.env');
const THREE_BROKERS_PROFILE = 'three-brokers';
/** `cp .env.example .env; docker compose up -d`. */
const SINGLE = shapeOf('one broker (default)', exampleEnv);
/** `docker compose --env-file .env --env-file compose/three-brokers.env up -d`. */
const THREE = shapeOf('three brokers (compose/three-brokers.env)', {
  ...exampleEnv,
  ...threeBrokersEnv,
});
const SHAPES = [SINGLE, THREE];

/** Services started once to set something up: others wait for them to exit 0. */
const oneShotServices = new Set(
  Object.values(services).flatMap((svc) =>
    Object.entries(dependenciesOf(svc))
      .filter(([, condition]) => condition === 'service_completed_successfully')
      .map(([name]) => name),
  ),
);

describe('docker-compose.yml: the services of the native stack', () => {
  it.each(SERVICES.map((spec) => [spec.name] as const))(
    'runs %s from an exact image version on the internal network, unpublished',
    (name) => {
      const svc = service(name);
      expect(svc.image).toMatch(/^[\w.\-/]+:[\w.-]+$/);
      expect(tagOf(svc.image)).toMatch(exactVersionOf(name));
      expect(networksOf(svc)).toEqual([DATA_NETWORK]);
      expect(portsOf(svc)).toEqual([]);
    },
  );

  it('runs PostgreSQL with logical replication for CDC', () => {
    const command = commandOf(service('postgres')).join(' ');
    expect(command).toMatch(/-c wal_level=logical\b/);
    expect(command).toMatch(/-c max_replication_slots=\d+/);
    expect(command).toMatch(/-c max_wal_senders=\d+/);
  });

  it('runs the schema registry on Kafka storage', () => {
    const env = environmentOf(serviceIn(SINGLE, 'schema-registry'));
    expect(env.APICURIO_STORAGE_KIND).toBe('kafkasql');
    expect(advertisedListeners(serviceIn(SINGLE, 'kafka'))).toContain(
      env.APICURIO_KAFKASQL_BOOTSTRAP_SERVERS,
    );
  });

  it('advertises Kafka to the containers only, and checks its health on that listener', () => {
    // As `docker compose up` runs it, without compose/three-brokers.env: one node, as before.
    const kafka = serviceIn(SINGLE, 'kafka');
    const env = environmentOf(kafka);
    const listeners = advertisedListeners(kafka);
    expect(listeners).toEqual(['kafka:29092']);
    // Nothing listens for the host any more: only the internal listener and the controller.
    expect(
      (env.KAFKA_LISTENERS ?? '')
        .split(',')
        .map((l) => l.replace(/:\/\/.*$/, ''))
        .sort(),
    ).toEqual(['CONTROLLER', 'PLAINTEXT']);
    expect(exposedOf(kafka)).toContain(29092);
    const bootstrap = /--bootstrap-server[=\s]+(\S+)/.exec(healthcheckOf(kafka) ?? '')?.[1];
    expect(listeners).toContain(bootstrap);
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_NODE_ID).toBe('1');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@localhost:9093');
    expect(env.KAFKA_DEFAULT_REPLICATION_FACTOR).toBe('1');
    expect(env.KAFKA_MIN_INSYNC_REPLICAS).toBe('1');
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe('1');
    expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe('1');
    expect(env.KAFKA_LOG_MESSAGE_TIMESTAMP_AFTER_MAX_MS).toBe(TIMESTAMP_AFTER_MAX_MS);
  });
});

describe('docker-compose.yml: the Kafka cluster, one node or three (compose/three-brokers.env)', () => {
  const SHAPE_EXPECTATIONS = [
    {
      shape: SINGLE,
      brokers: ['kafka'],
      replicationFactor: 1,
      minInsyncReplicas: 1,
    },
    {
      shape: THREE,
      brokers: ['kafka', 'kafka-2', 'kafka-3'],
      replicationFactor: 3,
      minInsyncReplicas: 2,
    },
  ] as const;
  const cases = SHAPE_EXPECTATIONS.map((e) => [e.shape.name, e] as const);
  const profileOnly = Object.entries(services).filter(([, svc]) => svc.profiles !== undefined);
  /** The listener each broker of a shape advertises, in node-id order. */
  const listenersOf = (shape: Shape): string[] =>
    brokersOf(shape).flatMap(({ name }) => advertisedListeners(serviceIn(shape, name)));

  it('compose/three-brokers.env turns the profile on and sets only the cluster shape, nothing secret', () => {
    expect(threeBrokersEnv.COMPOSE_PROFILES).toBe(THREE_BROKERS_PROFILE);
    const names = Object.keys(threeBrokersEnv);
    expect(names.filter((n) => /PASS|SECRET|TOKEN|AUTH|API_KEY/.test(n))).toEqual([]);
    // Not set in .env (.env.example) either: whichever --env-file comes last, the shape is the same.
    expect(names.filter((n) => Object.hasOwn(exampleEnv, n))).toEqual([]);
    for (const [name, value] of Object.entries(threeBrokersEnv)) {
      // Compose would keep quotes or spaces the test's parser does not.
      expect(`${name}=${value}`).toMatch(/^[A-Z_]+=[^\s'"]+$/);
    }
    // Every other variable it sets is one docker-compose.yml reads.
    const used = new Set(interpolationsIn(composeText).map((u) => u.name));
    expect(names.filter((n) => n !== 'COMPOSE_PROFILES' && !used.has(n))).toEqual([]);
    expect(read('compose/three-brokers.env')).toContain(
      'docker compose --env-file .env --env-file compose/three-brokers.env up -d',
    );
  });

  it('puts kafka-2 and kafka-3, and nothing else, in the three-brokers profile', () => {
    expect(
      Object.fromEntries(
        Object.entries(services)
          .filter(([, svc]) => svc.profiles?.includes(THREE_BROKERS_PROFILE))
          .map(([name, svc]) => [name, svc.profiles]),
      ),
    ).toEqual({ 'kafka-2': [THREE_BROKERS_PROFILE], 'kafka-3': [THREE_BROKERS_PROFILE] });
    expect(Object.keys(SINGLE.services)).not.toEqual(expect.arrayContaining(['kafka-2']));
    expect(Object.keys(SINGLE.services)).not.toEqual(expect.arrayContaining(['kafka-3']));
  });

  it.each(cases)('%s: runs its brokers with node ids 1, 2, 3…', (_, { shape, brokers }) => {
    expect(brokersOf(shape).map(({ name, nodeId }) => [name, nodeId])).toEqual(
      brokers.map((name, i) => [name, i + 1]),
    );
    for (const { name, env } of brokersOf(shape)) {
      expect(`${name}: ${env.KAFKA_PROCESS_ROLES}`).toBe(`${name}: broker,controller`);
      expect(advertisedListeners(serviceIn(shape, name))).toEqual([`${name}:29092`]);
      const bootstrap = /--bootstrap-server[=\s]+(\S+)/.exec(
        healthcheckOf(serviceIn(shape, name)) ?? '',
      )?.[1];
      expect(`${name}: ${bootstrap}`).toBe(`${name}: ${name}:29092`);
    }
  });

  it.each(cases)('%s: every broker is a voter of the same controller quorum', (_, { shape }) => {
    const brokers = brokersOf(shape);
    const voters = brokers.map(({ env }) => env.KAFKA_CONTROLLER_QUORUM_VOTERS);
    expect(new Set(voters).size).toBe(1);
    const parsed = votersOf(voters[0]);
    expect(parsed.map((v) => v.nodeId)).toEqual(brokers.map((b) => b.nodeId));
    const controllerPort = Number(
      /CONTROLLER:\/\/[^,]*:(\d+)/.exec(brokers[0]?.env.KAFKA_LISTENERS ?? '')?.[1],
    );
    for (const voter of parsed) {
      expect(voter.port).toBe(controllerPort);
      // One node may name itself localhost (as before); a cluster names each node's container.
      const host =
        brokers.length === 1 ? 'localhost' : brokers.find((b) => b.nodeId === voter.nodeId)?.name;
      expect(voter.host).toBe(host);
    }
  });

  it.each(cases)(
    '%s: replicates every topic, the transaction state log and the consumer offsets as the native stack',
    (_, { shape, brokers, replicationFactor, minInsyncReplicas }) => {
      // core/kafka-cluster.ts: what `continuum stack up --brokers <n>` gives its brokers.
      expect(kafkaReplication(brokers.length)).toEqual({
        replicationFactor,
        minInsyncReplicas,
      });
      const rf = String(replicationFactor);
      const isr = String(minInsyncReplicas);
      for (const { name, env } of brokersOf(shape)) {
        expect({
          name,
          defaultReplicationFactor: env.KAFKA_DEFAULT_REPLICATION_FACTOR,
          minInsyncReplicas: env.KAFKA_MIN_INSYNC_REPLICAS,
          offsetsReplicationFactor: env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR,
          transactionLogReplicationFactor: env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR,
          transactionLogMinIsr: env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR,
          shareStateReplicationFactor: env.KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR,
          shareStateMinIsr: env.KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR,
        }).toEqual({
          name,
          defaultReplicationFactor: rf,
          minInsyncReplicas: isr,
          offsetsReplicationFactor: rf,
          transactionLogReplicationFactor: rf,
          transactionLogMinIsr: isr,
          shareStateReplicationFactor: rf,
          shareStateMinIsr: isr,
        });
      }
      // kafka-init makes the platform's topics with the cluster's replication factor, and
      // checks that the existing ones have it.
      const script = scriptOf(serviceIn(shape, 'kafka-init'));
      expect(/^\s*replicas=(\S+)$/m.exec(script)?.[1]).toBe(rf);
      expect(script).toMatch(/--create --if-not-exists --replication-factor "\$replicas"/);
      expect(script).toMatch(/ReplicationFactor: \$replicas\[\[:space:\]\]/);
    },
  );

  it.each(cases)(
    '%s: the processes, kafka-init and the schema registry bootstrap from every broker',
    (_, { shape }) => {
      const listeners = listenersOf(shape);
      for (const name of [...PROCESSES.map((p) => p.name), 'seed']) {
        const brokers = environmentOf(shape.compose.services?.[name] ?? {}).CONTINUUM_KAFKA_BROKERS;
        expect(`${name}: ${brokers}`).toBe(`${name}: ${listeners.join(',')}`);
      }
      const registry = environmentOf(serviceIn(shape, 'schema-registry'));
      expect(registry.APICURIO_KAFKASQL_BOOTSTRAP_SERVERS).toBe(listeners.join(','));
      const init = scriptOf(serviceIn(shape, 'kafka-init'));
      expect(/--bootstrap-server[=\s]+([^\s"]+)/.exec(init)?.[1]).toBe(listeners.join(','));
    },
  );

  it.each(cases)(
    '%s: what waits for Kafka waits for every broker to be healthy',
    (_, { shape, brokers }) => {
      const waiting = ['kafka-init', 'schema-registry', ...PROCESSES.map((p) => p.name)];
      for (const name of waiting) {
        const deps = dependenciesIn(shape, serviceIn(shape, name));
        expect({ name, brokers: brokers.map((b) => deps[b]) }).toEqual({
          name,
          brokers: brokers.map(() => 'service_healthy'),
        });
      }
      // And nothing waits for a service the shape does not run.
      for (const [name, svc] of Object.entries(shape.services)) {
        for (const dep of Object.keys(dependenciesIn(shape, svc))) {
          expect(`${name} → ${dep}: ${shape.services[dep] !== undefined}`).toBe(
            `${name} → ${dep}: true`,
          );
        }
      }
    },
  );

  it('waits for the profile-only brokers optionally, so the default shape leaves them out', () => {
    expect(profileOnly.length).toBeGreaterThan(0);
    for (const [name, svc] of Object.entries(services)) {
      const deps = Array.isArray(svc.depends_on) ? {} : (svc.depends_on ?? {});
      for (const [dep, { required }] of Object.entries(deps)) {
        const depProfiles = services[dep]?.profiles;
        if (depProfiles === undefined) continue;
        if (svc.profiles?.some((p) => depProfiles.includes(p))) continue;
        expect(`${name} → ${dep}: required ${required}`).toBe(`${name} → ${dep}: required false`);
      }
    }
  });

  it.each(cases)(
    '%s: Prometheus scrapes the JMX agent of every broker, and only those',
    (_, { shape }) => {
      const port = Number(defaultOf('CONTINUUM_KAFKA_METRICS_PORT'));
      expect(kafkaScrapeTargets(shape)).toEqual(
        brokersOf(shape).map(({ name, nodeId }) => ({
          target: `${name}:${port}`,
          node: String(nodeId),
        })),
      );
      for (const { name } of brokersOf(shape))
        expect(exposedOf(serviceIn(shape, name))).toContain(port);
    },
  );

  it.each(['kafka-2', 'kafka-3'])(
    '%s runs like kafka: same image, settings and hardening, on the internal network only, unpublished',
    (name) => {
      const kafka = service('kafka');
      const node = service(name);
      // All but what makes it another node: its id, name, data volume and healthcheck.
      const own = ['environment', 'volumes', 'healthcheck', 'profiles'];
      expect(without(node, own)).toEqual(without(kafka, own));
      expect(node.image).toBe(kafka.image);
      expect(networksOf(node)).toEqual([DATA_NETWORK]);
      expect(portsOf(node)).toEqual([]);
      expect(exposedOf(node)).toEqual(exposedOf(kafka));
      const ownVariables = ['KAFKA_NODE_ID', 'KAFKA_ADVERTISED_LISTENERS'];
      expect(without(environmentOf(node), ownVariables)).toEqual(
        without(environmentOf(kafka), ownVariables),
      );
      expect(environmentOf(node).KAFKA_NODE_ID).not.toBe(environmentOf(kafka).KAFKA_NODE_ID);
      // Its own data volume; the JMX agent and its rules as kafka's.
      const data = (svc: ComposeService): Mount | undefined =>
        mountsOf(svc).find((m) => m.target === '/var/lib/kafka/data');
      expect(data(node)?.kind).toBe('named');
      expect(data(node)?.source).not.toBe(data(kafka)?.source);
      const others = (svc: ComposeService): Mount[] =>
        mountsOf(svc).filter((m) => m.target !== '/var/lib/kafka/data');
      expect(others(node)).toEqual(others(kafka));
      expect(dependenciesOf(node)['kafka-jmx-agent']).toBe('service_completed_successfully');
    },
  );

  it('gives kafka-2 and kafka-3 the voters of the shape: with the profile alone they are no voters and refuse to start', () => {
    const profileAlone = shapeOf('--profile three-brokers without the env file', {
      ...exampleEnv,
      COMPOSE_PROFILES: THREE_BROKERS_PROFILE,
    });
    // Kafka refuses a controller whose node id is not among controller.quorum.voters.
    for (const { name, nodeId, env } of brokersOf(profileAlone).filter((b) => b.nodeId !== 1)) {
      const ids = votersOf(env.KAFKA_CONTROLLER_QUORUM_VOTERS).map((v) => v.nodeId);
      expect(`${name}: ${ids.includes(nodeId)}`).toBe(`${name}: false`);
    }
  });

  it('documents the three-broker shape in .env.example without setting it there', () => {
    const example = read('.env.example');
    for (const name of Object.keys(threeBrokersEnv)) {
      expect(example).toContain(name);
      expect(Object.hasOwn(exampleEnv, name)).toBe(false);
    }
    expect(example).toContain('--env-file .env --env-file compose/three-brokers.env');
  });
});

describe('docker-compose.yml: networks', () => {
  const onNetwork = (network: string): string[] =>
    Object.entries(services)
      .filter(([, svc]) => (networksOf(svc) ?? []).includes(network))
      .map(([name]) => name)
      .sort();

  it('declares the data network internal, and the others not', () => {
    const networks = compose.networks ?? {};
    expect(networks[DATA_NETWORK]?.internal).toBe(true);
    for (const [name, network] of Object.entries(networks)) {
      if (name === DATA_NETWORK) continue;
      expect(`${name}: ${network?.internal === true}`).toBe(`${name}: false`);
      expect(`${name}: ${network?.external === true}`).toBe(`${name}: false`);
    }
  });

  it.each(Object.keys(services).map((name) => [name]))(
    '%s names its networks, every one declared (none on the implicit default)',
    (name) => {
      const networks = networksOf(service(name));
      expect(networks?.length).toBeGreaterThan(0);
      const declared = Object.keys(compose.networks ?? {});
      expect((networks ?? []).filter((n) => !declared.includes(n))).toEqual([]);
      expect(networks).not.toContain('default');
    },
  );

  it('keeps the exporters on the data network only', () => {
    for (const { name } of EXPORTERS) expect(networksOf(service(name))).toEqual([DATA_NETWORK]);
  });

  it('puts every platform process, and kafka-init, on the data network', () => {
    const built = Object.entries(services)
      .filter(([, svc]) => svc.build !== undefined)
      .map(([name]) => name);
    expect(built).toEqual(expect.arrayContaining(PROCESSES.map((p) => p.name)));
    for (const name of [...built, 'kafka-init']) {
      const onData = (networksOf(service(name)) ?? []).includes(DATA_NETWORK);
      expect({ name, onData }).toEqual({ name, onData: true });
    }
  });

  it('puts only the API and Grafana on the edge network, both also on the data network', () => {
    expect(onNetwork(EDGE_NETWORK)).toEqual(PUBLISHED.map((p) => p.name).sort());
    for (const { name } of PUBLISHED) expect(networksOf(service(name))).toContain(DATA_NETWORK);
  });

  it('gives a route out only to the API, Grafana and the download of the JMX agent', () => {
    const open = Object.entries(compose.networks ?? {})
      .filter(([, network]) => network?.internal !== true)
      .map(([name]) => name);
    const reachable = [...new Set(open.flatMap(onNetwork))].sort();
    expect(reachable).toEqual([...PUBLISHED.map((p) => p.name), 'kafka-jmx-agent'].sort());
    // It only writes into a volume: it has no business on the services' network.
    expect(networksOf(service('kafka-jmx-agent'))).not.toContain(DATA_NETWORK);
  });
});

describe('docker-compose.yml: published ports', () => {
  it('publishes exactly the API/UI and Grafana, on 127.0.0.1 and their own ports', () => {
    const published = Object.entries(services)
      .flatMap(([name, svc]) => portsOf(svc).map((p) => ({ name, ...p })))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(published).toEqual(
      PUBLISHED.map(({ name, port }) => ({
        name,
        hostIp: '127.0.0.1',
        published: port,
        target: port,
      })).sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it('publishes MLflow on 127.0.0.1 only with compose/mlflow-published.yml, adding edge to it alone', () => {
    const port = SERVICES.find((s) => s.name === 'mlflow')?.defaultPort;
    expect(Object.keys(mlflowOverride.services ?? {})).toEqual(['mlflow']);
    // It changes no network's definition (the data network stays internal).
    expect(mlflowOverride.networks).toBeUndefined();
    const mlflow = mlflowOverride.services?.mlflow ?? {};
    expect(portsOf(mlflow)).toEqual([{ hostIp: '127.0.0.1', published: port, target: port }]);
    expect([...(networksOf(mlflow) ?? [])].sort()).toEqual([DATA_NETWORK, EDGE_NETWORK].sort());
    expect(exposedOf(service('mlflow'))).toContain(port);
    // MLflow answers only the Host names it allows: the host's too.
    const allowed = (environmentOf(service('mlflow')).MLFLOW_SERVER_ALLOWED_HOSTS ?? '').split(',');
    expect(allowed).toEqual(expect.arrayContaining([`127.0.0.1:${port}`, `mlflow:${port}`]));
  });
});

describe('docker-compose.yml: pinned versions', () => {
  it.each(
    Object.entries(services)
      .filter(([, svc]) => svc.image !== undefined)
      .map(([name, svc]) => [name, svc.image ?? ''] as const),
  )('%s runs an exact image version (%s)', (name, image) => {
    expect(image).toMatch(/^[\w.\-/]+:[\w.-]+$/);
    expect(tagOf(image)).toMatch(exactVersionOf(name));
  });

  it('runs the versions of the native stack', () => {
    expect(tagOf(service('kafka').image)).toBe(KAFKA_VERSION);
    expect(tagOf(service('kafka-init').image)).toBe(KAFKA_VERSION);
    expect(tagOf(service('schema-registry').image)).toBe(APICURIO_VERSION);
    expect(tagOf(service('mlflow').image)).toBe(`v${MLFLOW_VERSION}`);
    const postgres = tagOf(service('postgres').image);
    expect(Number(postgres.split('.')[0])).toBe(15);
    expect(Number(postgres.split('.')[0])).toBe(nativeMajorOf('postgres', 'PostgreSQL'));
    expect(tagOf(service('redis').image)).toBe(NATIVE_REDIS_VERSION);
    expect(Number(NATIVE_REDIS_VERSION.split('.')[0])).toBe(nativeMajorOf('redis', 'Redis'));
  });

  it(`runs MongoDB 7.0 at ${MONGODB_MINIMUM_VERSION} or later (CVE-2025-14847)`, () => {
    const tag = tagOf(service('mongodb').image);
    expect(tag.split('.').slice(0, 2).join('.')).toBe('7.0');
    expect(compareVersions(tag, MONGODB_MINIMUM_VERSION)).toBeGreaterThanOrEqual(0);
  });
});

describe('docker-compose.yml: configuration', () => {
  const serviceEnvironments = Object.entries(services).map(
    ([name, svc]) => [name, environmentOf(svc)] as const,
  );

  it('names only CONTINUUM_* variables that core/config.ts reads', () => {
    const parsedNames = serviceEnvironments.flatMap(([, env]) => Object.keys(env));
    // Also every CONTINUUM_* key written anywhere in the file (anchors included).
    const writtenNames = [
      ...composeText.matchAll(/^\s*(?:-\s*)?(CONTINUUM_[A-Z0-9_]+)\s*[:=]/gm),
    ].map((m) => m[1] ?? '');
    const names = [...parsedNames, ...writtenNames].filter((n) => n.startsWith('CONTINUUM_'));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !isConfigVariable(n))).toEqual([]);
  });

  it('gives every CONTINUUM_* variable a value core/config.ts accepts', () => {
    for (const [name, env] of serviceEnvironments) {
      for (const [variable, value] of Object.entries(env)) {
        if (!isConfigVariable(variable)) continue;
        const parseValue = CONFIG_VARIABLES[variable].parse as (raw: string) => unknown;
        expect(() => parseValue(interpolate(value))).not.toThrow();
        expect(`${name}.${variable}=${value}`).not.toMatch(/=\s*$/);
      }
    }
  });

  it('documents every interpolated variable in .env.example (the cluster shape in compose/three-brokers.env), and .env stays out of git', () => {
    const documented = new Set(
      read('.env.example')
        .split('\n')
        .map((line) => /^\s*([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1])
        .filter((name) => name !== undefined),
    );
    // Compose's own variables (COMPOSE_PROFILES) are read by Compose, not interpolated.
    const shapeVariables = Object.keys(threeBrokersEnv).filter((n) => !n.startsWith('COMPOSE_'));
    const used = interpolationsIn(composeText);
    expect(used.length).toBeGreaterThan(0);
    expect(
      [...new Set(used.map((u) => u.name))].filter(
        (n) => !documented.has(n) && !shapeVariables.includes(n),
      ),
    ).toEqual([]);
    expect(
      [...documented, ...shapeVariables].filter((n) => !used.some((u) => u.name === n)),
    ).toEqual([]);
    // What compose/three-brokers.env does not set keeps the single-broker default.
    for (const use of used.filter((u) => shapeVariables.includes(u.name)))
      expect(`${use.name}${use.modifier}`).toMatch(/^[A-Z_]+:-\S+$/);
    expect(
      read('.gitignore')
        .split('\n')
        .map((l) => l.trim()),
    ).toContain('.env');
  });

  const requiredVariable = /^\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}$/;
  const variableOf = (value: string | undefined): string | undefined =>
    requiredVariable.exec(value ?? '')?.[1];

  it('takes every password from a required variable, never from the file', () => {
    const secrets = serviceEnvironments.flatMap(([name, env]) =>
      Object.entries(env)
        .filter(([variable]) => /PASS|SECRET|TOKEN|AUTH/.test(variable))
        .map(([variable, value]) => ({ name, variable, value })),
    );
    expect(secrets.map((s) => `${s.name}.${s.variable}`)).toEqual(
      expect.arrayContaining([
        'postgres.POSTGRES_PASSWORD',
        'postgres-exporter.DATA_SOURCE_PASS',
        'redis.REDISCLI_AUTH',
        'redis-exporter.REDIS_PASSWORD',
        'mongodb.MONGO_INITDB_ROOT_PASSWORD',
        'grafana.GF_SECURITY_ADMIN_PASSWORD',
      ]),
    );
    for (const secret of secrets) {
      expect(`${secret.name}.${secret.variable}=${secret.value}`).toMatch(
        /=\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$/,
      );
    }
    const env = (name: string, variable: string): string | undefined =>
      environmentOf(service(name))[variable];
    expect(variableOf(env('postgres', 'POSTGRES_PASSWORD'))).toBe('CONTINUUM_POSTGRES_PASSWORD');
    expect(variableOf(env('postgres-exporter', 'DATA_SOURCE_PASS'))).toBe(
      'CONTINUUM_POSTGRES_PASSWORD',
    );
    expect(variableOf(env('redis', 'REDISCLI_AUTH'))).toBe('CONTINUUM_REDIS_PASSWORD');
    expect(variableOf(env('redis-exporter', 'REDIS_PASSWORD'))).toBe('CONTINUUM_REDIS_PASSWORD');
    expect(variableOf(env('mongodb', 'MONGO_INITDB_ROOT_PASSWORD'))).toBe(
      'CONTINUUM_MONGODB_PASSWORD',
    );
  });

  it('runs Redis with a password from a required variable, and checks its health with it', () => {
    const redis = service('redis');
    const command = commandOf(redis);
    const at = command.indexOf('--requirepass');
    expect(at).toBeGreaterThan(0);
    expect(variableOf(command[at + 1])).toBe('CONTINUUM_REDIS_PASSWORD');
    // redis-cli reads REDISCLI_AUTH: the healthcheck's PING is answered only once authenticated.
    expect(variableOf(environmentOf(redis).REDISCLI_AUTH)).toBe('CONTINUUM_REDIS_PASSWORD');
    expect(healthcheckOf(redis)).toMatch(/redis-cli .*ping/);
  });

  it('runs MongoDB with a root user and a password from a required variable, and checks its health with them', () => {
    const mongodb = service('mongodb');
    const env = environmentOf(mongodb);
    expect(env.MONGO_INITDB_ROOT_USERNAME).toBe('continuum');
    expect(variableOf(env.MONGO_INITDB_ROOT_PASSWORD)).toBe('CONTINUUM_MONGODB_PASSWORD');
    const check = healthcheckOf(mongodb) ?? '';
    // `$$` is the container's own variable, not Compose's interpolation.
    expect(check).toMatch(/--username "?\$\$MONGO_INITDB_ROOT_USERNAME\b/);
    expect(check).toMatch(/--password "?\$\$MONGO_INITDB_ROOT_PASSWORD\b/);
    expect(check).toMatch(/--authenticationDatabase admin\b/);
  });

  it.each(PROCESSES.map((p) => [p.name]))(
    '%s connects to PostgreSQL, Redis and MongoDB with the passwords from .env',
    (name) => {
      const env = environmentOf(service(name));
      const userinfo = (url: string | undefined): string =>
        /^[a-z+]+:\/\/([^@/]*)@/.exec(url ?? '')?.[1] ?? '';
      expect(userinfo(env.CONTINUUM_POSTGRES_URL)).toBe('continuum:${CONTINUUM_POSTGRES_PASSWORD}');
      expect(userinfo(env.CONTINUUM_REDIS_URL)).toBe(':${CONTINUUM_REDIS_PASSWORD}');
      const mongodbEnv = environmentOf(service('mongodb'));
      expect(userinfo(env.CONTINUUM_MONGODB_URL)).toBe(
        `${mongodbEnv.MONGO_INITDB_ROOT_USERNAME}:\${CONTINUUM_MONGODB_PASSWORD}`,
      );
      // The root user is created in the admin database.
      expect(
        new URL(interpolate(env.CONTINUUM_MONGODB_URL ?? '')).searchParams.get('authSource'),
      ).toBe('admin');
    },
  );
});

describe('docker-compose.yml: the platform processes', () => {
  const defaultPortOf = (variable: ConfigVariable): number => Number(defaultOf(variable));

  it.each(PROCESSES.map((p) => [p.name, p] as const))(
    '%s is built from the Dockerfile',
    (name, p) => {
      const { build } = service(name);
      expect(build).toBeDefined();
      const context = typeof build === 'string' ? build : (build?.context ?? '.');
      const dockerfile =
        typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
      expect(nodePath.resolve(repoRoot, context)).toBe(repoRoot);
      expect(dockerfile).toBe('Dockerfile');
      expect(existsSync(nodePath.join(repoRoot, context, dockerfile))).toBe(true);
      expect(commandOf(service(name))).toEqual(p.command);
    },
  );

  it.each(PROCESSES.map((p) => [p.name, p] as const))(
    '%s reaches every service at its container',
    (name) => {
      const env = environmentOf(service(name));
      for (const spec of SERVICES) {
        const value = env[spec.endpointVariable];
        expect(`${spec.endpointVariable}: ${typeof value}`).toBe(
          `${spec.endpointVariable}: string`,
        );
        const endpoint = interpolate(value ?? '');
        const first = endpoint.split(',')[0] ?? '';
        const { host, port } = hostPortOf(first, spec.defaultPort);
        expect(`${spec.endpointVariable} → ${host}`).toBe(
          `${spec.endpointVariable} → ${spec.name}`,
        );
        const target = service(spec.name);
        const containerPorts = [
          ...exposedOf(target),
          ...advertisedListeners(target)
            .filter((l) => l.startsWith(`${spec.name}:`))
            .map((l) => Number(l.split(':')[1])),
        ];
        expect(containerPorts).toContain(port);
      }
    },
  );

  it.each(PROCESSES.map((p) => [p.name, p] as const))(
    '%s serves /metrics on its native port, scraped by Prometheus and checked by its healthcheck',
    (name, { portVariable }) => {
      const port = defaultPortOf(portVariable);
      expect(Number.isInteger(port)).toBe(true);
      const env = environmentOf(service(name));
      if (env[portVariable] !== undefined) expect(Number(env[portVariable])).toBe(port);
      const job = prometheusConfig.scrape_configs?.find((j) => j.job_name === 'continuum');
      expect(job).toBeDefined();
      const staticTargets = (job?.static_configs ?? []).flatMap((c) =>
        (c.targets ?? []).map((t) => ({ target: t, process: c.labels?.process })),
      );
      const dnsTargets = (job?.dns_sd_configs ?? []).flatMap((c) =>
        (c.names ?? []).map((n) => ({ target: `${n}:${c.port}`, process: n })),
      );
      const processFromDnsName = (job?.relabel_configs ?? []).some(
        (r) =>
          r.target_label === 'process' &&
          (r.source_labels ?? []).includes('__meta_dns_name') &&
          (r.action ?? 'replace') === 'replace',
      );
      const targets = [
        ...staticTargets,
        ...dnsTargets.map((t) => ({ ...t, process: processFromDnsName ? t.process : undefined })),
      ];
      expect(targets).toContainEqual({ target: `${name}:${port}`, process: name });
      // Where the process reports readiness (CDC, streams, sinks, ML) the healthcheck asks /ready,
      // served beside /metrics; the others answer /metrics.
      expect(healthcheckOf(service(name)) ?? '').toContain(
        `:${port}/${READY_PROCESSES.has(name) ? 'ready' : 'metrics'}`,
      );
    },
  );

  it('starts the seeder once the CDC source streams, so no shipment change comes before the slot', () => {
    const seed = service('seed');
    const deps = Array.isArray(seed.depends_on) ? {} : (seed.depends_on ?? {});
    expect(deps.connect?.condition).toBe('service_healthy');
    // Its /ready probes the services it writes to (cli/commands/seed.ts).
    expect(healthcheckOf(seed) ?? '').toContain(
      `:${defaultPortOf('CONTINUUM_SEED_METRICS_PORT')}/ready`,
    );
    expect(healthcheckOf(service('connect'))).toContain(':9465/ready');
    // And it still waits for what every process waits for.
    expect(deps.postgres?.condition).toBe('service_healthy');
    expect(deps['kafka-init']?.condition).toBe('service_completed_successfully');
  });

  it.each(PROCESSES.map((p) => [p.name, p] as const))(
    '%s binds on every interface of its container, so Prometheus can reach its /metrics',
    (name) => {
      // Like the native stack, which scrapes each process at CONTINUUM_API_HOST.
      expect(environmentOf(service(name)).CONTINUUM_API_HOST).toBe('0.0.0.0');
    },
  );

  it('publishes the API on 127.0.0.1 and its native port', () => {
    const api = service('api');
    const port = defaultPortOf('CONTINUUM_API_PORT');
    expect(portsOf(api)).toContainEqual({ hostIp: '127.0.0.1', published: port, target: port });
  });

  it.each(PROCESSES.map((p) => [p.name, p] as const))(
    '%s starts once the topics exist and the services are healthy',
    (name) => {
      const deps = dependenciesOf(service(name));
      expect(deps['kafka-init']).toBe('service_completed_successfully');
      for (const spec of SERVICES.filter((s) => s.name !== 'prometheus')) {
        expect(`${spec.name}: ${deps[spec.name]}`).toBe(`${spec.name}: service_healthy`);
      }
    },
  );

  it('scrapes Prometheus itself and the processes every 5 s', () => {
    const jobs = prometheusConfig.scrape_configs ?? [];
    const self = jobs.flatMap((j) => (j.static_configs ?? []).flatMap((c) => c.targets ?? []));
    expect(self).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(localhost|prometheus):9090$/)]),
    );
    const job = jobs.find((j) => j.job_name === 'continuum');
    expect(job?.scrape_interval ?? prometheusConfig.global?.scrape_interval).toBe('5s');
    const prometheus = service('prometheus');
    const configFile =
      commandOf(prometheus)
        .find((arg) => arg.startsWith('--config.file='))
        ?.split('=')[1] ?? '/etc/prometheus/prometheus.yml';
    expect(mountsOf(prometheus)).toContainEqual({
      kind: 'bind',
      source: './compose/prometheus/prometheus.yml',
      target: configFile,
    });
  });
});

describe('docker-compose.yml: health, start order and volumes', () => {
  it('has the one-shot kafka-init job on the Kafka image', () => {
    expect([...oneShotServices].sort()).toEqual(['kafka-init', 'kafka-jmx-agent']);
    const init = service('kafka-init');
    expect(init.image).toBe(service('kafka').image);
    expect(init.restart).toBe('no');
    expect(dependenciesOf(init).kafka).toBe('service_healthy');
  });

  it.each(Object.keys(services).map((name) => [name]))(
    '%s is health-checked, or waits for one that is',
    (name) => {
      if (oneShotServices.has(name)) return;
      const svc = service(name);
      const check = healthcheckOf(svc);
      const waitsForHealthy = Object.entries(dependenciesOf(svc)).some(
        ([dep, condition]) =>
          condition === 'service_healthy' && healthcheckOf(service(dep)) !== undefined,
      );
      expect({ name, checked: check !== undefined || waitsForHealthy }).toEqual({
        name,
        checked: true,
      });
      if (check !== undefined) {
        // A real request, not merely an open port.
        expect(check).not.toMatch(/\bnc\b[^|;&]*\s-\w*z/);
        if (check.includes('/dev/tcp/')) expect(check).toMatch(/>&\s*\d/);
      }
    },
  );

  it('only waits for healthy services that have a healthcheck, and for services that exist', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependenciesOf(svc))) {
        expect(`${name} → ${dep}: ${services[dep] !== undefined}`).toBe(`${name} → ${dep}: true`);
        if (condition === 'service_healthy') {
          expect(`${dep}: ${healthcheckOf(service(dep)) !== undefined}`).toBe(`${dep}: true`);
        }
      }
    }
  });

  it('declares every named volume it mounts, and mounts files that exist, in either shape', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const named = new Set<string>();
    for (const shape of SHAPES) {
      // Interpolated, as Compose reads a mount (its source may name the shape's file).
      const mounts = Object.values(shape.compose.services ?? {}).flatMap(mountsOf);
      for (const m of mounts.filter((m) => m.kind === 'named')) named.add(m.source);
      expect(mounts.filter((m) => m.kind === 'anonymous')).toEqual([]);
      for (const bind of mounts.filter((m) => m.kind === 'bind')) {
        expect(`${bind.source}: ${existsSync(nodePath.join(repoRoot, bind.source))}`).toBe(
          `${bind.source}: true`,
        );
      }
    }
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((n) => !declared.includes(n))).toEqual([]);
    expect(declared.filter((d) => !named.has(d))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const instructions = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
  const fromIndexes = instructions.flatMap((ins, i) => (ins.keyword === 'FROM' ? [i] : []));
  const finalStage = instructions.slice(fromIndexes.at(-1) ?? 0);

  it('has a dependency stage and a final stage on the Node version package.json asks for', () => {
    expect(fromIndexes.length).toBeGreaterThanOrEqual(2);
    const pkg = JSON.parse(read('package.json')) as { engines?: { node?: string } };
    const minimum = Number(/(\d+)/.exec(pkg.engines?.node ?? '')?.[1]);
    expect(minimum).toBeGreaterThan(0);
    for (const i of fromIndexes) {
      const major = Number(/^(?:--\S+\s+)*node:(\d+)/.exec(instructions[i]?.args ?? '')?.[1]);
      expect(major).toBeGreaterThanOrEqual(minimum);
    }
  });

  it('installs production dependencies with their install scripts, and copies them over', () => {
    const installs = instructions.filter(
      (ins) => ins.keyword === 'RUN' && /\bnpm ci\b/.test(ins.args),
    );
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).not.toMatch(/--ignore-scripts/);
    // The stage whose node_modules the image keeps installs production dependencies only (a
    // build stage, such as the UI's, may install dev dependencies: only its output is kept).
    const kept = finalStage.find(
      (ins) => ins.keyword === 'COPY' && /--from=\S+.*node_modules/.test(ins.args),
    );
    expect(kept).toBeDefined();
    const keptStage = /--from=(\S+)/.exec(kept?.args ?? '')?.[1];
    const stageStart = instructions.findIndex(
      (ins) => ins.keyword === 'FROM' && new RegExp(`\\bAS\\s+${keptStage}$`, 'i').test(ins.args),
    );
    const stageEnd = fromIndexes.find((i) => i > stageStart) ?? instructions.length;
    const keptInstalls = installs.filter((ins) => {
      const at = instructions.indexOf(ins);
      return at > stageStart && at < stageEnd;
    });
    expect(keptInstalls.length).toBeGreaterThan(0);
    for (const install of keptInstalls) expect(install.args).toMatch(/--omit=dev/);
    // The postinstall (patches/apply.mjs) needs its patches in place when npm ci runs.
    const firstInstall = instructions.indexOf(installs[0] as (typeof instructions)[number]);
    expect(
      instructions
        .slice(0, firstInstall)
        .some((ins) => ins.keyword === 'COPY' && /(^|\s)patches(\s|$)/.test(ins.args)),
    ).toBe(true);
  });

  it('runs the package bin as a non-root user', () => {
    const users = finalStage.filter((ins) => ins.keyword === 'USER').map((ins) => ins.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const pkg = JSON.parse(read('package.json')) as { bin?: Record<string, string> };
    const entrypoint = finalStage.find((ins) => ins.keyword === 'ENTRYPOINT')?.args ?? '';
    const argv = JSON.parse(entrypoint) as string[];
    expect(argv[0]).toBe('node');
    expect(nodePath.normalize(argv[1] ?? '')).toBe(nodePath.normalize(pkg.bin?.continuum ?? '-'));
  });

  it('copies sources that exist and that .dockerignore keeps', () => {
    const ignored = new Set(
      read('.dockerignore')
        .split('\n')
        .map((l) => l.trim().replace(/\/$/, ''))
        .filter((l) => l && !l.startsWith('#')),
    );
    for (const required of ['.git', 'node_modules', '.continuum', '.env'])
      expect(ignored).toContain(required);
    const sources = finalStage
      .filter((ins) => ins.keyword === 'COPY' && !ins.args.includes('--from='))
      .flatMap((ins) =>
        ins.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'bin', 'core', 'cli']));
    for (const source of sources) {
      expect(`${source}: ${existsSync(nodePath.join(repoRoot, source))}`).toBe(`${source}: true`);
      expect(ignored.has(source)).toBe(false);
    }
  });
});

describe('kafka-init: the topics', () => {
  const script = scriptOf(service('kafka-init'));
  const created = script
    .split('\n')
    .filter((line) => /--topic[=\s]/.test(line))
    .map((line) => {
      const configs = Object.fromEntries(
        [...line.matchAll(/--config[=\s]+([\w.-]+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
      );
      return {
        topic: /--topic[=\s]+(\S+)/.exec(line)?.[1] ?? '',
        partitions: Number(/--partitions[=\s]+(\d+)/.exec(line)?.[1]),
        compact: configs['cleanup.policy'] === 'compact',
        configs,
      };
    });
  const byTopic = new Map(created.map((t) => [t.topic, t]));
  const topicVariables = (Object.keys(CONFIG_VARIABLES) as ConfigVariable[]).filter(
    (name) => name.startsWith('CONTINUUM_TOPIC_') && name !== 'CONTINUUM_TOPIC_PARTITIONS',
  );
  const partitions = Number(defaultOf('CONTINUUM_TOPIC_PARTITIONS'));
  const compacted = new Set([
    defaultOf('CONTINUUM_TOPIC_SHIPMENT_STATE'),
    defaultOf('CONTINUUM_TOPIC_ETA_MODELS'),
  ]);
  const etaModels = defaultOf('CONTINUUM_TOPIC_ETA_MODELS');

  it('creates each topic once, idempotently, on the internal listener', () => {
    expect(topicVariables.length).toBeGreaterThanOrEqual(6);
    expect(byTopic.size).toBe(created.length);
    expect(script).toMatch(/--if-not-exists/);
    // As `docker compose up` runs it: one replica (the cluster's shapes are checked above).
    const single = scriptOf(serviceIn(SINGLE, 'kafka-init'));
    expect(/^\s*replicas=(\S+)$/m.exec(single)?.[1]).toBe('1');
    expect(single).toMatch(/--replication-factor "\$replicas"/);
    const bootstrap = /--bootstrap-server[=\s]+([^\s"]+)/.exec(single)?.[1];
    expect(advertisedListeners(serviceIn(SINGLE, 'kafka'))).toContain(bootstrap);
  });

  it('stops the platform on topics of another replication factor (kept from the other shape)', () => {
    // Each created topic is recorded, then looked for in the description with the cluster's
    // replication factor; one without it makes kafka-init exit 1, and the processes wait for
    // kafka-init to succeed.
    expect(script).toMatch(/^\s*topics\(\) \{ created\+=\("\$\$2"\);/m);
    expect(created.length).toBeGreaterThan(0);
    for (const line of script.split('\n').filter((l) => /--topic[=\s]/.test(l)))
      expect(line).toMatch(/^\s*topics --topic /);
    expect(script).toMatch(/for topic in "\$\$\{created\[@\]\}"/);
    expect(script).toMatch(
      /grep -q "\^Topic: \$\$topic\[\[:space:\]\]\.\*ReplicationFactor: \$\$replicas\[\[:space:\]\]"/,
    );
    expect(script).toMatch(/exit 1/);
    for (const name of PROCESSES.map((p) => p.name))
      expect(dependenciesOf(service(name))['kafka-init']).toBe('service_completed_successfully');
  });

  it.each(topicVariables.map((name) => [defaultOf(name), name]))(
    'creates %s (%s) with its partitions and cleanup policy',
    (topic) => {
      const found = byTopic.get(topic);
      expect(found).toBeDefined();
      expect(found?.partitions).toBe(topic === etaModels ? 1 : partitions);
      expect(found?.compact).toBe(compacted.has(topic));
    },
  );

  it.each(topicVariables.map((name) => defaultOf(name)).filter((t) => t !== etaModels))(
    'creates the dead-letter topic %s.dlq',
    (topic) => {
      const dlq = byTopic.get(`${topic}.dlq`);
      expect(dlq).toBeDefined();
      expect({ partitions: dlq?.partitions, compact: dlq?.compact }).toEqual({
        partitions,
        compact: false,
      });
    },
  );

  it('creates exactly the topics of platformTopics() in core/topics.ts, with their configs', () => {
    const expected = platformTopics(loadConfig({})).map((spec) => ({
      topic: spec.topic,
      partitions: spec.numPartitions,
      configs: Object.fromEntries(spec.configEntries.map((e) => [e.name, e.value])),
    }));
    const actual = created.map(({ topic, partitions: count, configs }) => ({
      topic,
      partitions: count,
      configs,
    }));
    const byName = (a: { topic: string }, b: { topic: string }): number =>
      a.topic.localeCompare(b.topic);
    expect(actual.sort(byName)).toEqual(expected.sort(byName));
  });
});

describe('Grafana', () => {
  const grafana = service('grafana');
  const datasources = parse(read('compose/grafana/provisioning/datasources/prometheus.yml')) as {
    datasources?: { uid?: string; type?: string; url?: string }[];
  };
  const providers = parse(read('compose/grafana/provisioning/dashboards/continuum.yml')) as {
    providers?: { type?: string; options?: { path?: string } }[];
  };
  const dashboards = readdirSync(nodePath.join(repoRoot, 'compose/grafana/dashboards'))
    .filter((file) => file.endsWith('.json'))
    .map(
      (file) =>
        JSON.parse(read(`compose/grafana/dashboards/${file}`)) as {
          uid?: string;
          title?: string;
          panels?: GrafanaPanel[];
        },
    );
  const flatten = (panels: GrafanaPanel[]): GrafanaPanel[] =>
    panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
  const panels = dashboards
    .flatMap((d) => flatten(d.panels ?? []))
    .filter((p) => p.targets !== undefined);

  it('provisions the compose Prometheus as its datasource', () => {
    const prometheus = datasources.datasources?.find((d) => d.type === 'prometheus');
    expect(prometheus?.uid).toBeTruthy();
    const { host, port } = hostPortOf(prometheus?.url ?? '', 80);
    expect(host).toBe('prometheus');
    expect(exposedOf(service('prometheus'))).toContain(port);
    expect(mountsOf(grafana)).toContainEqual({
      kind: 'bind',
      source: './compose/grafana/provisioning',
      target: '/etc/grafana/provisioning',
    });
  });

  it('loads compose/grafana/dashboards from where it is mounted', () => {
    const path = providers.providers?.find((p) => p.type === 'file')?.options?.path;
    expect(path).toBeTruthy();
    expect(mountsOf(grafana)).toContainEqual({
      kind: 'bind',
      source: './compose/grafana/dashboards',
      target: path,
    });
  });

  it('has dashboards whose every panel queries the provisioned datasource with an expression', () => {
    expect(dashboards.length).toBeGreaterThan(1);
    for (const dashboard of dashboards) {
      expect(dashboard.uid).toBeTruthy();
      expect(dashboard.title).toBeTruthy();
    }
    const home = environmentOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(
      existsSync(nodePath.join(repoRoot, 'compose/grafana/dashboards', nodePath.basename(home))),
    ).toBe(true);
    // A panel may chart more than one metric; `charts <metric>` below checks each is charted.
    expect(panels.length).toBeGreaterThan(0);
    const uid = datasources.datasources?.find((d) => d.type === 'prometheus')?.uid;
    for (const panel of panels) {
      expect(panel.targets?.length).toBeGreaterThan(0);
      if (panel.datasource && typeof panel.datasource === 'object')
        expect(panel.datasource.uid).toBe(uid);
      for (const target of panel.targets ?? []) {
        expect({ panel: panel.title, expr: typeof target.expr }).toEqual({
          panel: panel.title,
          expr: 'string',
        });
        const expr = String(target.expr).trim();
        expect(expr).not.toBe('');
        let depth = 0;
        for (const ch of expr) {
          depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
          expect(depth).toBeGreaterThanOrEqual(0);
        }
        expect({ expr, depth }).toEqual({ expr, depth: 0 });
      }
    }
  });

  it.each(DASHBOARD_METRICS)('charts %s', (metric) => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => String(t.expr)));
    expect(exprs.some((e) => new RegExp(`\\b${metric}\\b`).test(e))).toBe(true);
  });
});

describe('docker-compose.yml: what measures the services', () => {
  const jobs = prometheusConfig.scrape_configs ?? [];
  const staticTargetsOf = (job: string): string[] =>
    (jobs.find((j) => j.job_name === job)?.static_configs ?? []).flatMap((c) => c.targets ?? []);

  it.each(EXPORTERS.map((e) => [e.name, e.version, e] as const))(
    '%s runs the version the native stack builds (%s), on its native port unpublished, scraped under the native job name',
    (name, version, { portVariable, job, measured }) => {
      const svc = service(name);
      expect(tagOf(svc.image)).toBe(version);
      const port = Number(defaultOf(portVariable));
      expect(exposedOf(svc)).toContain(port);
      expect(portsOf(svc)).toEqual([]);
      expect(staticTargetsOf(job)).toEqual([`${name}:${port}`]);
      expect(dependenciesOf(svc)[measured]).toBe('service_healthy');
    },
  );

  it("runs the JMX agent in the broker's JVM with the native stack's rules, scraped as the broker", () => {
    const kafka = service('kafka');
    const port = Number(defaultOf('CONTINUUM_KAFKA_METRICS_PORT'));
    const opts = environmentOf(kafka).KAFKA_OPTS ?? '';
    const agent = /-javaagent:(\S+?)=(\d+):(\S+)/.exec(opts);
    expect(agent?.[1]).toContain(`jmx_prometheus_javaagent-${JMX_AGENT_VERSION}.jar`);
    expect(Number(agent?.[2])).toBe(port);
    expect(exposedOf(kafka)).toContain(port);
    expect(mountsOf(kafka)).toContainEqual({
      kind: 'bind',
      source: './compose/kafka/jmx-exporter.yaml',
      target: agent?.[3],
    });
    // One broker by default (three with compose/three-brokers.env: checked with the shapes).
    expect(kafkaScrapeTargets(SINGLE).map((t) => t.target)).toEqual([`kafka:${port}`]);
    expect(dependenciesOf(kafka)['kafka-jmx-agent']).toBe('service_completed_successfully');
    const fetch = service('kafka-jmx-agent');
    const script = [fetch.command].flat().join('\n');
    expect(script).toContain(
      `/${JMX_AGENT_VERSION}/jmx_prometheus_javaagent-${JMX_AGENT_VERSION}.jar`,
    );
    expect(script).toMatch(/sha256sum -c/);
  });

  it('loads the generated alert rules', () => {
    const prometheus = service('prometheus');
    const ruleFile = (prometheusConfig.rule_files ?? []).find((f) => f.endsWith('alerts.yml'));
    expect(ruleFile).toBeDefined();
    expect(mountsOf(prometheus)).toContainEqual({
      kind: 'bind',
      source: './compose/prometheus/alerts.yml',
      target: ruleFile,
    });
  });
});
