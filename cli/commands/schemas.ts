// `continuum schemas register | check`: the Avro contracts in the schema registry, one value
// subject per topic (`<topic>-value`), BACKWARD compatibility, and why a change would break it.
import { Command } from 'commander';
import { formatTable } from '../../core/table.ts';
import { createSchemaRegistry } from '../../schemas/event-schemas.ts';
import { RegistryAdmin } from '../../schemas/registry-admin.ts';
import {
  checkSchemas,
  platformSchemaBindings,
  registerSchemas,
  type CheckOutcome,
  type RegisterOutcome,
} from '../../schemas/subjects.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnv } from './stack.ts';

export function registerTable(outcomes: readonly RegisterOutcome[]): string {
  return formatTable(
    ['SUBJECT', 'SCHEMA', 'ID', 'VERSION', 'RESULT'],
    outcomes.map((o) => [
      o.binding.subject,
      o.binding.schemaName,
      o.id === undefined ? '-' : String(o.id),
      o.version === undefined ? '-' : String(o.version),
      o.error === undefined ? 'registered' : `✗ ${o.error}`,
    ]),
  );
}

function resultOf(o: CheckOutcome): string {
  switch (o.state) {
    case 'new':
      return 'new subject, would register version 1';
    case 'unchanged':
      return 'already registered';
    case 'compatible':
      return `compatible, would register version ${(o.latestVersion ?? 0) + 1}`;
    case 'incompatible':
      return '✗ INCOMPATIBLE';
  }
}

export function checkTable(outcomes: readonly CheckOutcome[]): string {
  return formatTable(
    ['SUBJECT', 'SCHEMA', 'LATEST', 'LEVEL', 'REGISTRY', 'EXPLAINER', 'RESULT'],
    outcomes.map((o) => [
      o.binding.subject,
      o.binding.schemaName,
      o.latestVersion === undefined ? '-' : `v${o.latestVersion} (id ${o.latestId})`,
      o.registryLevel ?? '-',
      o.registryCompatible === undefined ? '-' : o.registryCompatible ? 'ok' : 'refuses',
      o.registryCompatible === undefined
        ? '-'
        : o.violations.length === 0
          ? 'ok'
          : `${o.violations.length} violation(s)`,
      resultOf(o),
    ]),
  );
}

/** The explanations under the table: what breaks, where, and (when they differ) who said so. */
export function checkDetails(outcomes: readonly CheckOutcome[]): string {
  const parts: string[] = [];
  for (const o of outcomes) {
    if (o.state !== 'incompatible' && o.disagreement === undefined) continue;
    const lines = [
      `${o.state === 'incompatible' ? '✗' : '!'} ${o.binding.subject} (${o.binding.schemaName}), ${o.checkedLevel} against version ${o.comparedVersions.join(', ')}:`,
      ...o.violations.map(
        (v) => `  - ${o.comparedVersions.length > 1 ? `(v${v.version}) ` : ''}${v.message}`,
      ),
    ];
    if (o.disagreement !== undefined) lines.push(`  note: ${o.disagreement}`);
    parts.push(lines.join('\n'));
  }
  return parts.join('\n\n');
}

export function schemasCommand(env: CommandEnv): Command {
  const schemas = new Command('schemas').description(
    'the Avro event contracts in the schema registry: one `<topic>-value` subject per topic, BACKWARD compatible',
  );

  schemas
    .command('register')
    .description(
      'register every contract under its topic subject and set BACKWARD compatibility (idempotent)',
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const config = env.config();
      const outcomes = await registerSchemas(
        createSchemaRegistry(config),
        new RegistryAdmin(config.schemaRegistry.url),
        platformSchemaBindings(config.topics),
        env.log().child({ component: 'schemas' }),
      );
      env.out(
        opts.json
          ? JSON.stringify(
              outcomes.map((o) => ({
                subject: o.binding.subject,
                schema: o.binding.schemaName,
                id: o.id,
                version: o.version,
                error: o.error,
              })),
              null,
              2,
            )
          : registerTable(outcomes),
      );
      if (outcomes.some((o) => o.error !== undefined)) env.setExitCode(EXIT.failed);
    });

  schemas
    .command('check')
    .description(
      'compare each local contract with its subject’s latest version: ask the registry and explain every incompatibility; exit 1 if any',
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const config = env.config();
      const outcomes = await checkSchemas(
        new RegistryAdmin(config.schemaRegistry.url),
        platformSchemaBindings(config.topics),
      );
      if (opts.json) {
        env.out(
          JSON.stringify(
            outcomes.map(({ binding, ...rest }) => ({
              subject: binding.subject,
              schema: binding.schemaName,
              ...rest,
            })),
            null,
            2,
          ),
        );
      } else {
        const details = checkDetails(outcomes);
        env.out(details === '' ? checkTable(outcomes) : `${checkTable(outcomes)}\n\n${details}`);
      }
      if (outcomes.some((o) => o.state === 'incompatible')) env.setExitCode(EXIT.failed);
    });

  return schemas;
}
