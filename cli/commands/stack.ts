// `continuum stack up | down | status | logs [service]`: the native local stack.
import { redactUrl } from '../../core/redact.ts';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadConfig, type Config } from '../../core/config.ts';
import { KAFKA_CLUSTER_SIZES } from '../../core/kafka-cluster.ts';
import { PrerequisiteError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
// The stack's services and its exporters are named by StackServiceName.
import type { StackServiceName as ServiceName } from '../../core/services.ts';
import { formatTable } from '../../core/table.ts';
import {
  NATIVE_STACK_NAMES,
  NativeStack,
  type ServiceStatus,
} from '../../compose/native/native-stack.ts';
import { tailFile } from '../../compose/native/process-supervisor.ts';
import { EXIT } from '../exit-codes.ts';

export interface CommandEnv {
  config: () => Config;
  log: () => Logger;
  out: (text: string) => void;
  setExitCode: (code: number) => void;
  /** The environment the configuration is read from (process.env when absent). */
  variables?: () => Readonly<Record<string, string | undefined>>;
}

const serviceNames = [...NATIVE_STACK_NAMES];

export function statusTable(services: readonly ServiceStatus[]): string {
  return formatTable(
    ['SERVICE', 'URL', 'STATE', 'VERSION', 'PID'],
    services.map((s) => [
      s.name,
      // The native PostgreSQL's URL carries its generated password.
      redactUrl(s.url),
      s.state,
      s.version ?? '-',
      s.pid === undefined ? '-' : String(s.pid),
    ]),
  );
}

export async function stackUp(
  env: CommandEnv,
  only?: ServiceName[],
  kafkaNodes?: string,
): Promise<boolean> {
  // `--brokers` is CONTINUUM_KAFKA_NODES for this run; the cluster records its size when formatted.
  const config =
    kafkaNodes === undefined
      ? env.config()
      : loadConfig({ ...(env.variables?.() ?? process.env), CONTINUUM_KAFKA_NODES: kafkaNodes });
  const stack = new NativeStack(config, env.log());
  const started = Date.now();
  let result;
  try {
    result = await stack.up({ only });
  } catch (err) {
    if (err instanceof PrerequisiteError) {
      env.out(`\n${err.message}`);
      env.setExitCode(EXIT.prerequisite);
      return false;
    }
    throw err;
  }
  env.out(`\n${statusTable(result.services)}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.failed.length > 0) {
    for (const failure of result.failed) {
      env.out(
        `\n✗ ${failure.message}${failure.logTail ? `\n--- last lines of its log ---\n${failure.logTail}\n---` : ''}`,
      );
    }
    env.out(
      `\nstack up failed after ${seconds}s: ${result.failed.map((f) => f.service).join(', ')}`,
    );
    env.setExitCode(EXIT.failed);
    return false;
  }
  env.out(
    `stack up: ${result.started.length} started, ${result.reused.length} reused, ready in ${seconds}s`,
  );
  return true;
}

export function stackCommand(env: CommandEnv): Command {
  const stack = new Command('stack').description(
    'the local stack of real services as local processes (no Docker engine needed)',
  );
  const serviceArg = (cmd: Command): Command =>
    cmd.addOption(
      new Option(
        '-s, --service <name...>',
        'only these services (and what they depend on)',
      ).choices(serviceNames),
    );

  serviceArg(
    stack
      .command('up')
      .description(
        'install (cached), start and wait until every service answers; reuses healthy ones',
      )
      .addOption(
        new Option(
          '--brokers <count>',
          'KRaft nodes of the Kafka cluster, chosen when its data is created: 3 gives replication factor 3 and min.insync.replicas 2 (CONTINUUM_KAFKA_NODES)',
        ).choices(KAFKA_CLUSTER_SIZES),
      ),
  ).action(async (opts: { service?: ServiceName[]; brokers?: string }) => {
    await stackUp(env, opts.service, opts.brokers);
  });

  serviceArg(stack.command('down').description('stop the services this stack started')).action(
    async (opts: { service?: ServiceName[] }) => {
      const results = await new NativeStack(env.config(), env.log()).down(opts.service);
      env.out(
        formatTable(
          ['SERVICE', 'RESULT'],
          results.map((r) => [r.name, r.result]),
        ),
      );
    },
  );

  stack
    .command('status')
    .description('probe every service with a real request and print a table')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const services = await new NativeStack(env.config(), env.log()).status();
      env.out(opts.json ? JSON.stringify(services, null, 2) : statusTable(services));
      if (services.some((s) => s.state === 'stopped' || s.state === 'unhealthy'))
        env.setExitCode(EXIT.failed);
    });

  stack
    .command('logs')
    .description('show the end of a service log (or of every log)')
    .addArgument(new Command().createArgument('[service]', 'which service').choices(serviceNames))
    .option('-n, --lines <count>', 'how many lines', (v) => Number.parseInt(v, 10), 40)
    .option('-f, --follow', 'keep printing as the log grows')
    .action(async (service: ServiceName | undefined, opts: { lines: number; follow?: boolean }) => {
      const stackOf = new NativeStack(env.config(), env.log());
      const names = service ? [service] : serviceNames;
      if (opts.follow) {
        const files = names.map((n) => stackOf.logFile(n)).filter((f) => existsSync(f));
        await new Promise<void>((resolve) =>
          spawn('tail', ['-n', String(opts.lines), '-F', ...files], { stdio: 'inherit' }).on(
            'close',
            () => resolve(),
          ),
        );
        return;
      }
      for (const name of names) {
        const file = stackOf.logFile(name);
        if (!service) env.out(`==> ${name} (${file}) <==`);
        env.out(existsSync(file) ? await tailFile(file, opts.lines) : `(no log yet at ${file})`);
      }
    });
  return stack;
}
