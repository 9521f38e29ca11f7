// The stack's orchestration with stand-in services (shell processes and file probes): start
// order, failure reports with the log tail, dependents not started, reuse on a second up.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { loadConfig, type Config } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import type { StackServiceName as ServiceName } from '../../core/services.ts';
import type { NativeService } from './native-service.ts';
import { NativeStack } from './native-stack.ts';

/** A service whose process writes a "ready" file (and removes it on SIGTERM); its probe checks the file. */
const SERVE = "trap 'rm -f $READY; exit 0' TERM; touch $READY; while :; do sleep 0.1; done";

function fakeService(
  name: ServiceName,
  script: string,
  dependsOn: ServiceName[] = [],
): NativeService {
  const readyFile = (config: Config): string => nodePath.join(config.stateDir, `${name}.ready`);
  return {
    name,
    dependsOn,
    url: () => `fake://${name}`,
    install: () => Promise.resolve(),
    prepare: () => Promise.resolve(),
    launch: (ctx) => ({
      command: 'sh',
      args: ['-c', script.replaceAll('$READY', readyFile(ctx.config))],
    }),
    probe: (ctx) => Promise.resolve({ ok: existsSync(readyFile(ctx.config)), version: '1.0' }),
  };
}

describe('NativeStack orchestration', () => {
  let stateDir: string;
  let config: Config;
  const log = createLogger('silent');
  const noPrerequisites = (): Promise<void> => Promise.resolve();

  beforeEach(async () => {
    stateDir = await mkdtemp(nodePath.join(os.tmpdir(), 'continuum-stack-unit-'));
    config = loadConfig({
      CONTINUUM_STATE_DIR: stateDir,
      CONTINUUM_STACK_START_TIMEOUT_MS: '10000',
    });
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('starts services, reports them running, and reuses them on a second up', async () => {
    const services = [
      fakeService('kafka', SERVE),
      fakeService('schema-registry', SERVE, ['kafka']),
    ];
    const stack = new NativeStack(config, log, services, noPrerequisites);
    try {
      const first = await stack.up({ progress: false });
      expect(first.failed).toEqual([]);
      expect(first.started.sort()).toEqual(['kafka', 'schema-registry']);
      expect(first.services.map((s) => s.state)).toEqual(['running', 'running']);
      const second = await stack.up({ progress: false });
      expect(second.started).toEqual([]);
      expect(second.reused.sort()).toEqual(['kafka', 'schema-registry']);
    } finally {
      await stack.down();
    }
    expect((await stack.status()).map((s) => s.state)).toEqual(['stopped', 'stopped']);
  });

  it("treats a cluster's Kafka nodes as one: `-s kafka-2` starts them all, `down -s kafka` stops them all", async () => {
    const services = [
      fakeService('kafka', SERVE),
      fakeService('kafka-2', SERVE),
      fakeService('kafka-3', SERVE),
      fakeService('schema-registry', SERVE, ['kafka']),
      fakeService('redis', SERVE),
    ];
    const stack = new NativeStack(config, log, services, noPrerequisites);
    try {
      const up = await stack.up({ only: ['kafka-2'], progress: false });
      expect(up.failed).toEqual([]);
      expect(up.started.sort()).toEqual(['kafka', 'kafka-2', 'kafka-3']);
      await stack.up({ only: ['redis'], progress: false });
      const down = await stack.down(['kafka']);
      expect(down.map((r) => [r.name, r.result]).sort()).toEqual([
        ['kafka', 'stopped'],
        ['kafka-2', 'stopped'],
        ['kafka-3', 'stopped'],
      ]);
      const states = new Map((await stack.status()).map((s) => [s.name, s.state]));
      expect(states.get('redis')).toBe('running');
      expect(states.get('kafka-3')).toBe('stopped');
    } finally {
      await stack.down();
    }
  });

  it('brings a reused service of ours up to date, and reports (not fails) when it cannot', async () => {
    const updated: number[] = [];
    const kafka: NativeService = {
      ...fakeService('kafka', SERVE),
      whenReused: (_ctx, pid) => {
        updated.push(pid);
        return Promise.resolve();
      },
    };
    const redis: NativeService = {
      ...fakeService('redis', SERVE),
      whenReused: () => Promise.reject(new Error('no agent for you')),
    };
    const stack = new NativeStack(config, log, [kafka, redis], noPrerequisites);
    try {
      const first = await stack.up({ progress: false });
      expect(updated).toEqual([]);
      const second = await stack.up({ progress: false });
      const kafkaPid = first.services.find((s) => s.name === 'kafka')?.pid;
      expect(kafkaPid).toBeGreaterThan(0);
      expect(updated).toEqual([kafkaPid]);
      expect(second.failed).toEqual([]);
      expect(second.reused.sort()).toEqual(['kafka', 'redis']);
    } finally {
      await stack.down();
    }
  });

  it('names a service that exits during start-up, with the tail of its log, and does not start its dependents', async () => {
    const services = [
      fakeService('kafka', 'echo "port 9092 already in use" >&2; exit 3'),
      fakeService('schema-registry', SERVE, ['kafka']),
      fakeService('redis', SERVE),
    ];
    const stack = new NativeStack(config, log, services, noPrerequisites);
    try {
      const result = await stack.up({ progress: false });
      const byService = new Map(result.failed.map((f) => [f.service, f]));
      expect([...byService.keys()].sort()).toEqual(['kafka', 'schema-registry']);
      expect(byService.get('kafka')?.message).toMatch(/^kafka: exited during start-up/);
      expect(byService.get('kafka')?.logTail).toContain('port 9092 already in use');
      expect(byService.get('schema-registry')?.message).toMatch(
        /not started: a dependency \(kafka\) failed/,
      );
      expect(result.started).toEqual(['redis']);
      expect(result.services.find((s) => s.name === 'kafka')?.state).toBe('stopped');
    } finally {
      await stack.down();
    }
  });

  it('gives up on a service that never answers its probe, after the start timeout', async () => {
    const slowConfig = loadConfig({
      CONTINUUM_STATE_DIR: stateDir,
      CONTINUUM_STACK_START_TIMEOUT_MS: '1000',
    });
    const stack = new NativeStack(
      slowConfig,
      log,
      [fakeService('mlflow', 'echo listening nowhere; exec sleep 30')],
      noPrerequisites,
    );
    try {
      const result = await stack.up({ progress: false });
      expect(result.failed[0]?.message).toMatch(/^mlflow: not ready after 1000 ms/);
      expect(result.failed[0]?.logTail).toContain('listening nowhere');
      expect(result.services[0]?.state).toBe('unhealthy');
    } finally {
      await stack.down();
    }
  });
});
