// The `continuum` command tree. Kept apart from main.ts so tests can run it in-process.
import { Command, CommanderError } from 'commander';
import {
  CONFIG_VARIABLES,
  defaultOf,
  loadConfig,
  type Config,
  type ConfigVariable,
} from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { formatTable } from '../core/table.ts';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.ts';
import { apiCommand } from './commands/api.ts';
import { benchCommand } from './commands/bench.ts';
import { connectCommand } from './commands/connect.ts';
import { demoCommand } from './commands/demo.ts';
import { lagCommand } from './commands/lag.ts';
import { mlCommand } from './commands/ml.ts';
import { replayCommand } from './commands/replay.ts';
import { schemasCommand } from './commands/schemas.ts';
import { seedCommand } from './commands/seed.ts';
import { streamsCommand } from './commands/streams.ts';
import { stackCommand, type CommandEnv } from './commands/stack.ts';
import {
  assertDependenciesPatched,
  UnpatchedDependencyError,
} from '../core/patched-dependencies.ts';
import { redactVariable } from '../core/redact.ts';

export interface ProgramIo {
  env: Readonly<Record<string, string | undefined>>;
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface ProgramRun {
  program: Command;
  exitCode: () => number;
}

export function buildProgram(io: ProgramIo): ProgramRun {
  let exitCode: number = EXIT.ok;
  let config: Config | undefined;
  let log: Logger | undefined;
  const env: CommandEnv = {
    // Parsed once, on first use, so `--help` works even with a bad environment.
    config: () => (config ??= loadConfig(io.env)),
    log: () => (log ??= createLogger(env.config().logLevel)),
    out: io.out,
    variables: () => io.env,
    setExitCode: (code) => {
      exitCode = code;
    },
  };

  const program = new Command('continuum')
    .description('Continuum: real-time logistics data platform on Apache Kafka')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  program.addCommand(stackCommand(env));
  program.addCommand(schemasCommand(env));
  program.addCommand(seedCommand(env));
  program.addCommand(connectCommand(env));
  program.addCommand(streamsCommand(env));
  program.addCommand(benchCommand(env));
  program.addCommand(lagCommand(env));
  program.addCommand(apiCommand(env));
  program.addCommand(replayCommand(env));
  program.addCommand(mlCommand(env));

  program
    .command('config')
    .description(
      'print every CONTINUUM_* variable: its value (secrets masked), default and meaning',
    )
    .action(() => {
      // Passwords in URLs and keys are masked: this output gets pasted into tickets.
      const rows = (Object.keys(CONFIG_VARIABLES) as ConfigVariable[]).map((name) => {
        const set = io.env[name];
        return [
          name,
          set === undefined
            ? `(default) ${redactVariable(name, defaultOf(name, io.env))}`
            : redactVariable(name, set),
          CONFIG_VARIABLES[name].doc,
        ];
      });
      env.config();
      io.out(formatTable(['VARIABLE', 'VALUE', 'MEANING'], rows));
    });

  program.addCommand(demoCommand(env));

  // addCommand() does not pass these settings down; every subcommand must throw, not exit.
  const configure = (command: Command): void => {
    command
      .exitOverride()
      .showHelpAfterError()
      .configureOutput({ writeOut: io.out, writeErr: io.err });
    command.commands.forEach(configure);
  };
  configure(program);
  return { program, exitCode: () => exitCode };
}

/** What runs without a Kafka client of ours, so works on an install whose patches are missing. */
const WITHOUT_KAFKA_CLIENTS = new Set([
  'stack',
  'config',
  'help',
  '--help',
  '-h',
  '--version',
  '-V',
]);

/** Runs the CLI and returns the process exit code. */
export async function runProgram(argv: readonly string[], io: ProgramIo): Promise<number> {
  const run = buildProgram(io);
  try {
    // Every command that talks to Kafka refuses to start on unpatched clients, before any work.
    if (!WITHOUT_KAFKA_CLIENTS.has(argv[0] ?? '--help')) assertDependenciesPatched();
    await run.program.parseAsync([...argv], { from: 'user' });
    return run.exitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return EXIT.config;
    }
    if (err instanceof UnpatchedDependencyError) {
      io.err(`continuum: ${err.message}`);
      return EXIT.prerequisite;
    }
    throw err;
  }
}
