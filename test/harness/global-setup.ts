// Jest global setup of the integration and e2e projects (Jest runs it only when one of their
// tests is selected): gives integration and e2e tests their real services, and fails loudly
// (never skips) when they cannot be had. Endpoints reach test workers through process.env.
import { loadConfig } from '../../core/config.ts';
import { quietKnownWarnings } from '../../core/process-warnings.ts';
import { createLogger } from '../../core/logger.ts';
import { NativeStack } from '../../compose/native/native-stack.ts';
import { prometheusTargetsDir } from '../../compose/native/services/prometheus.ts';
import { statusTable } from '../../cli/commands/stack.ts';
import { chooseSource, endpointEnv, type TestServices } from './service-endpoints.ts';

declare global {
  // Set up once per project that has tests to run (integration, e2e); torn down after all.
  var continuumTestServices: TestServices[] | undefined;
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function nativeServices(): Promise<TestServices> {
  const config = loadConfig(process.env);
  const stack = new NativeStack(config, createLogger(config.logLevel));
  const result = await stack.up();
  if (result.failed.length > 0) {
    const failures = result.failed.map((f) => `✗ ${f.message}\n${f.logTail}`).join('\n\n');
    throw new Error(
      `The native stack did not come up, so integration tests cannot run:\n${statusTable(result.services)}\n\n${failures}`,
    );
  }
  const keep = /^(1|true|yes)$/i.test(process.env.CONTINUUM_TEST_KEEP_STACK ?? '');
  return {
    source: 'native',
    env: {
      ...endpointEnv(config),
      CONTINUUM_TEST_PROMETHEUS_TARGETS_DIR: prometheusTargetsDir(config),
      CONTINUUM_TEST_SCRAPE_HOST: '127.0.0.1',
    },
    // Leave running what was already running; stop what this run started, unless asked to keep it.
    stop: async () => {
      if (!keep && result.started.length > 0) await stack.down(result.started);
    },
  };
}

function environmentServices(): TestServices {
  const config = loadConfig(process.env);
  const missing = ['CONTINUUM_TEST_PROMETHEUS_TARGETS_DIR', 'CONTINUUM_TEST_SCRAPE_HOST'].filter(
    (v) => !process.env[v],
  );
  if (missing.length > 0)
    process.stderr.write(
      `note: ${missing.join(', ')} not set; the Prometheus smoke test will fail\n`,
    );
  return { source: 'environment', env: endpointEnv(config), stop: () => Promise.resolve() };
}

export default async function globalSetup(): Promise<void> {
  quietKnownWarnings();
  const source = await chooseSource(process.env, dockerAnswers);
  process.stderr.write(`\ncontinuum test services: ${source}\n`);
  let services: TestServices;
  if (source === 'environment') services = environmentServices();
  else if (source === 'testcontainers')
    services = await (await import('./testcontainers-services.ts')).startContainerServices();
  else services = await nativeServices();
  Object.assign(process.env, services.env);
  (globalThis.continuumTestServices ??= []).push(services);
}
