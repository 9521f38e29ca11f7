// `continuum api`: the REST API on CONTINUUM_API_HOST:CONTINUUM_API_PORT (also /metrics);
// `continuum api keygen`: a new API key and the CONTINUUM_API_KEYS entry that holds its hash.
import { Command } from 'commander';
import { runApiServer } from '../../api/server.ts';
import { API_SCOPES, apiKeyEntryText, generateApiKey, type ApiScope } from '../../core/api-keys.ts';
import { errorMessage } from '../../core/errors.ts';
import { failureReport } from '../../core/failure-report.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnv } from './stack.ts';

function scopeList(value: string): ApiScope[] {
  const scopes = value.split(',').map((s) => s.trim());
  const unknown = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new Error(`unknown scope(s) ${unknown.join(', ')} (known: ${API_SCOPES.join(', ')})`);
  return scopes as ApiScope[];
}

export function apiCommand(env: CommandEnv): Command {
  const api = new Command('api')
    .description(
      'serve the REST API (lookups, lists, the map, SSE, telemetry ingest, replays; OpenAPI at /docs)',
    )
    .action(async () => {
      try {
        await runApiServer(env.config(), env.log());
      } catch (err) {
        env.log().error({ err: errorMessage(err) }, 'api failed');
        env.out(`api failed: ${failureReport(err)}`);
        env.setExitCode(EXIT.failed);
      }
    });
  api
    .command('keygen')
    .description(
      'make an API key: prints the key (give it to the client) and the CONTINUUM_API_KEYS entry (give it to the server; it holds only the hash)',
    )
    .requiredOption('--name <name>', 'who holds the key (lower-case letters, digits, . _ -)')
    .option('--scopes <list>', `comma-separated, among ${API_SCOPES.join(', ')}`, scopeList, [
      'read',
    ] as ApiScope[])
    .action((opts: { name: string; scopes: ApiScope[] }) => {
      const key = generateApiKey();
      env.out(`key:   ${key}\nentry: ${apiKeyEntryText(opts.name, opts.scopes, key)}`);
    });
  return api;
}
