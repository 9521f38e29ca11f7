// The local stack as local processes: `up` installs (cached), starts in dependency order and
// waits for real readiness; `status` probes each; `down` stops what we started. Idempotent:
// a second `up` reuses every service that runs and answers its probe.
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import type { Config } from '../../core/config.ts';
import { StackServiceError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
// The stack starts exporters too: its services are named by StackServiceName.
import type { StackServiceName as ServiceName } from '../../core/services.ts';
import { waitFor } from '../../core/wait-for.ts';
import {
  servicePaths,
  type NativeService,
  type ProbeResult,
  type StackContext,
} from './native-service.ts';
import { ensurePrerequisites } from './prerequisites.ts';
import {
  clearPid,
  isAlive,
  launchDetached,
  readPid,
  stopProcess,
  tailFile,
} from './process-supervisor.ts';
import { createStackProgress, type StackProgress } from './stack-progress.ts';
import { kafkaNodeService, kafkaService } from './services/kafka.ts';
import { mlflowService } from './services/mlflow.ts';
import { mongodbService } from './services/mongodb.ts';
import { postgresService } from './services/postgres.ts';
import { postgresExporterService } from './services/postgres-exporter.ts';
import { prometheusService } from './services/prometheus.ts';
import { redisService } from './services/redis.ts';
import { redisExporterService } from './services/redis-exporter.ts';
import { schemaRegistryService } from './services/schema-registry.ts';

export const NATIVE_SERVICES: readonly NativeService[] = [
  kafkaService,
  schemaRegistryService,
  postgresService,
  redisService,
  mongodbService,
  mlflowService,
  prometheusService,
];

/** Exporters `up` runs beside the services they measure (the broker's agent runs in its JVM). */
export const NATIVE_EXPORTERS: readonly NativeService[] = [
  postgresExporterService,
  redisExporterService,
];

/** What `continuum stack` manages with a one-node Kafka: the services, then their exporters. */
export const NATIVE_STACK: readonly NativeService[] = [...NATIVE_SERVICES, ...NATIVE_EXPORTERS];

/** Every name `continuum stack -s` accepts, whatever the cluster's size. */
export const NATIVE_STACK_NAMES: readonly ServiceName[] = [
  'kafka',
  'kafka-2',
  'kafka-3',
  ...NATIVE_STACK.map((s) => s.name).filter((name) => name !== 'kafka'),
];

/** What `continuum stack` manages for this configuration: node 1 and the other Kafka nodes first. */
export function nativeStackServices(config: Config): readonly NativeService[] {
  const otherNodes = Array.from({ length: config.kafka.nodes - 1 }, (_, i) =>
    kafkaNodeService(i + 2),
  );
  return [kafkaService, ...otherNodes, ...NATIVE_STACK.filter((s) => s !== kafkaService)];
}

function isKafkaNode(name: ServiceName): boolean {
  return name === 'kafka' || name === 'kafka-2' || name === 'kafka-3';
}

/** running: ours and healthy; external: healthy but not started by us; unhealthy: ours, alive, not answering. */
export type ServiceState = 'running' | 'external' | 'unhealthy' | 'stopped';

export interface ServiceStatus {
  name: ServiceName;
  url: string;
  state: ServiceState;
  version?: string;
  pid?: number;
  detail?: string;
}

export interface UpResult {
  services: ServiceStatus[];
  started: ServiceName[];
  reused: ServiceName[];
  failed: StackServiceError[];
}

export class NativeStack {
  private readonly config: Config;
  private readonly log: Logger;
  private readonly services: readonly NativeService[];

  private readonly prerequisites: (log: Logger) => Promise<void>;

  constructor(
    config: Config,
    log: Logger,
    services: readonly NativeService[] = nativeStackServices(config),
    prerequisites: (log: Logger) => Promise<void> = ensurePrerequisites,
  ) {
    this.config = config;
    this.log = log.child({ component: 'stack' });
    this.services = services;
    this.prerequisites = prerequisites;
  }

  private context(progress?: StackProgress): StackContext {
    return {
      config: this.config,
      log: this.log,
      report: (service, detail) => progress?.detail(service, detail),
    };
  }

  private service(name: ServiceName): NativeService {
    const service = this.services.find((s) => s.name === name);
    if (!service)
      throw new Error(
        `unknown service ${name}; known: ${this.services.map((s) => s.name).join(', ')}`,
      );
    return service;
  }

  async probe(service: NativeService, ctx = this.context()): Promise<ProbeResult> {
    try {
      return await service.probe(ctx);
    } catch (err) {
      return { ok: false, detail: errorMessage(err) };
    }
  }

  async statusOf(service: NativeService): Promise<ServiceStatus> {
    const paths = servicePaths(this.config, service.name);
    const recorded = readPid(paths);
    const pid = recorded !== undefined && isAlive(recorded) ? recorded : undefined;
    const probe = await this.probe(service);
    const state: ServiceState = probe.ok
      ? pid
        ? 'running'
        : 'external'
      : pid
        ? 'unhealthy'
        : 'stopped';
    return {
      name: service.name,
      url: service.url(this.config),
      state,
      version: probe.version,
      pid,
      detail: probe.ok ? undefined : probe.detail,
    };
  }

  async status(): Promise<ServiceStatus[]> {
    return Promise.all(this.services.map((s) => this.statusOf(s)));
  }

  async up(options: { only?: readonly ServiceName[]; progress?: boolean } = {}): Promise<UpResult> {
    const wanted = this.withDependencies(options.only ?? this.services.map((s) => s.name));
    await mkdir(this.config.stateDir, { recursive: true });
    const release = await this.lock();
    const progress = createStackProgress(
      wanted.map((s) => s.name),
      this.log,
      options.progress ?? process.stderr.isTTY,
    );
    const ctx = this.context(progress);
    const result: UpResult = { services: [], started: [], reused: [], failed: [] };
    try {
      const before = new Map(
        (await Promise.all(wanted.map((s) => this.statusOf(s)))).map((s) => [s.name, s]),
      );
      const toStart = wanted.filter((s) => {
        const state = before.get(s.name)?.state;
        return state !== 'running' && state !== 'external';
      });
      for (const s of wanted)
        if (!toStart.includes(s)) {
          result.reused.push(s.name);
          progress.update(s.name, 'reused', before.get(s.name)?.state);
        }
      if (toStart.length > 0) await this.prerequisites(this.log);

      const ready = new Map<ServiceName, Promise<boolean>>();
      for (const s of wanted) if (!toStart.includes(s)) ready.set(s.name, Promise.resolve(true));
      // Maven's local repository is not safe for concurrent writers: one Maven install at a time.
      let mavenChain: Promise<unknown> = Promise.resolve();
      const installs = new Map<ServiceName, Promise<void>>();
      for (const s of toStart) {
        progress.update(s.name, 'installing');
        const install =
          isKafkaNode(s.name) || s.name === 'schema-registry'
            ? (mavenChain = mavenChain.then(() => s.install(ctx)))
            : s.install(ctx);
        installs.set(s.name, install as Promise<void>);
      }
      for (const s of toStart) {
        ready.set(
          s.name,
          (async () => {
            try {
              await installs.get(s.name);
              const depsReady = await Promise.all(
                s.dependsOn.map((d) => ready.get(d) ?? Promise.resolve(false)),
              );
              if (!depsReady.every(Boolean))
                throw new StackServiceError(
                  s.name,
                  `not started: a dependency (${s.dependsOn.join(', ')}) failed`,
                );
              await this.start(s, ctx, progress);
              result.started.push(s.name);
              return true;
            } catch (err) {
              const failure =
                err instanceof StackServiceError
                  ? err
                  : new StackServiceError(s.name, errorMessage(err), {
                      cause: err,
                      logTail: await tailFile(servicePaths(this.config, s.name).logFile),
                    });
              result.failed.push(failure);
              progress.update(s.name, 'failed', errorMessage(err).split('\n')[0]);
              return false;
            }
          })(),
        );
      }
      await Promise.all(ready.values());
      for (const s of wanted) {
        const pid = before.get(s.name)?.pid;
        if (s.whenReused && !toStart.includes(s) && before.get(s.name)?.state === 'running' && pid)
          await s.whenReused(ctx, pid).catch((err: unknown) => {
            this.log.warn(
              { service: s.name, err: errorMessage(err) },
              'could not update a reused service',
            );
            progress.update(s.name, 'reused', errorMessage(err).split('\n')[0]);
          });
      }
    } finally {
      progress.stop();
      await release();
    }
    result.services = await Promise.all(wanted.map((s) => this.statusOf(s)));
    return result;
  }

  private async start(
    service: NativeService,
    ctx: StackContext,
    progress: StackProgress,
  ): Promise<void> {
    const paths = servicePaths(this.config, service.name);
    const stale = readPid(paths);
    if (stale !== undefined && isAlive(stale)) {
      // Ours, alive, but not answering: restart it rather than start a second copy.
      this.log.warn({ service: service.name, pid: stale }, 'restarting an unhealthy service');
      await stopProcess(stale);
    }
    clearPid(paths);
    progress.update(service.name, 'starting', 'preparing');
    await mkdir(paths.dir, { recursive: true });
    await service.prepare(ctx);
    const spec = await service.launch(ctx);
    const pid = launchDetached(spec, paths);
    this.log.info({ service: service.name, pid, command: spec.command }, 'launched');
    progress.update(service.name, 'starting', `pid ${pid}`);
    const started = Date.now();
    let lastProbe: ProbeResult = { ok: false };
    let outcome: 'ready' | 'exited';
    try {
      outcome = await waitFor<'ready' | 'exited'>(
        async () => {
          if (!isAlive(pid)) return 'exited';
          lastProbe = await this.probe(service, ctx);
          return lastProbe.ok ? 'ready' : undefined;
        },
        {
          timeoutMs: this.config.stack.startTimeoutMs,
          intervalMs: 250,
          maxIntervalMs: 1_000,
          description: `${service.name} to answer its readiness probe`,
        },
      );
    } catch (err) {
      throw new StackServiceError(
        service.name,
        `not ready after ${this.config.stack.startTimeoutMs} ms: ${lastProbe.detail ?? errorMessage(err)} (log: ${paths.logFile})`,
        { cause: err, logTail: await tailFile(paths.logFile) },
      );
    }
    if (outcome === 'exited') {
      clearPid(paths);
      throw new StackServiceError(service.name, `exited during start-up (log: ${paths.logFile})`, {
        logTail: await tailFile(paths.logFile),
      });
    }
    if (service.afterReady) {
      progress.update(service.name, 'starting', 'initializing');
      await service.afterReady(ctx);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    progress.update(service.name, 'ready', `in ${seconds}s`);
  }

  async down(
    only?: readonly ServiceName[],
  ): Promise<{ name: ServiceName; result: 'stopped' | 'killed' | 'not running' }[]> {
    // Reverse dependency order: the registry before the broker it stores schemas in.
    // A cluster's nodes stop together, as they start together.
    const named = only && only.some(isKafkaNode) ? [...only, 'kafka', 'kafka-2', 'kafka-3'] : only;
    const targets = [...this.services].reverse().filter((s) => !named || named.includes(s.name));
    const stopOne = async (
      s: NativeService,
    ): Promise<{ name: ServiceName; result: 'stopped' | 'killed' | 'not running' }> => {
      const paths = servicePaths(this.config, s.name);
      const pid = readPid(paths);
      if (pid === undefined || !isAlive(pid)) {
        clearPid(paths);
        return { name: s.name, result: 'not running' };
      }
      const how = await stopProcess(pid, isKafkaNode(s.name) ? 60_000 : 20_000);
      clearPid(paths);
      this.log.info({ service: s.name, pid, how }, 'stopped');
      return { name: s.name, result: how };
    };
    const results: { name: ServiceName; result: 'stopped' | 'killed' | 'not running' }[] = [];
    const kafkaNodes = targets.filter((s) => isKafkaNode(s.name));
    for (const s of targets) {
      if (!isKafkaNode(s.name)) results.push(await stopOne(s));
      // A cluster's nodes stop together: stopped one by one, the last would wait for a quorum.
      else if (s === kafkaNodes[0]) results.push(...(await Promise.all(kafkaNodes.map(stopOne))));
    }
    return results;
  }

  logFile(name: ServiceName): string {
    return servicePaths(this.config, this.service(name).name).logFile;
  }

  private withDependencies(names: readonly ServiceName[]): NativeService[] {
    const needed = new Set<ServiceName>();
    const visit = (name: ServiceName): void => {
      if (needed.has(name)) return;
      needed.add(name);
      for (const d of this.service(name).dependsOn) visit(d);
      // A node of a cluster starts with the others: alone it never has a quorum.
      if (isKafkaNode(name)) for (const s of this.services) if (isKafkaNode(s.name)) visit(s.name);
    };
    names.forEach(visit);
    return this.services.filter((s) => needed.has(s.name));
  }

  /** One `up` at a time per state dir (the CLI and a test run may race); stale locks are taken over. */
  private async lock(): Promise<() => Promise<void>> {
    const file = `${this.config.stateDir}/stack.lock`;
    await waitFor(
      async () => {
        try {
          const handle = await open(file, 'wx');
          await handle.writeFile(String(process.pid));
          await handle.close();
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
          if (!holder || !isAlive(holder)) await rm(file, { force: true });
          return false;
        }
      },
      {
        timeoutMs: 30 * 60_000,
        intervalMs: 500,
        maxIntervalMs: 2_000,
        description: `the stack lock ${file} (another \`stack up\` is running)`,
      },
    );
    return async () => {
      if (existsSync(file)) await rm(file, { force: true });
    };
  }
}
