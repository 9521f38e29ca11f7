// Which schema goes to which subject, and the two jobs behind `continuum schemas register|check`:
// register every contract with BACKWARD compatibility, and tell before registering what would break.
import { COMPATIBILITY, SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { TopicsConfig } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  COMPATIBILITY_LEVELS,
  explainCompatibility,
  type CompatibilityLevel,
  type CompatibilityViolation,
} from './compatibility.ts';
import {
  loadAvroSchema,
  valueSubject,
  type AvroSchema,
  type EventSchemaName,
} from './event-schemas.ts';
import type { RegistryAdmin } from './registry-admin.ts';

/** The level every platform subject gets: consumers upgrade first, then producers. */
export const SUBJECT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export interface SchemaBinding {
  topic: string;
  subject: string;
  /** The record's name, for tables and messages. */
  schemaName: string;
  schema: AvroSchema;
}

/** Which contract each topic carries (value subjects, topic-name strategy). */
export const TOPIC_SCHEMAS: readonly (readonly [
  keyof Omit<TopicsConfig, 'partitions'>,
  EventSchemaName,
])[] = [
  ['shipmentsCdc', 'ShipmentChange'],
  ['telemetryRaw', 'VehicleTelemetry'],
  ['telemetryClean', 'VehicleTelemetry'],
  ['shipmentState', 'UnifiedShipmentState'],
  ['deliveriesCompleted', 'DeliveryExample'],
  ['etaModels', 'EtaModel'],
];

export function bindingFor(topic: string, name: EventSchemaName): SchemaBinding {
  return { topic, subject: valueSubject(topic), schemaName: name, schema: loadAvroSchema(name) };
}

export function platformSchemaBindings(topics: TopicsConfig): SchemaBinding[] {
  return TOPIC_SCHEMAS.map(([key, name]) => bindingFor(topics[key], name));
}

export interface RegisterOutcome {
  binding: SchemaBinding;
  /** Set when registered (or found already registered). */
  id?: number;
  version?: number;
  /** Why the registry refused it, or could not be asked. */
  error?: string;
  /** HTTP status of a refusal; 409 means incompatible with the latest version. */
  status?: number;
}

/**
 * Registers every binding under its subject after setting the subject's compatibility level.
 * Idempotent: a schema already registered gets its existing id and version back. A refusal is
 * reported per subject and does not stop the others.
 */
export async function registerSchemas(
  registry: SchemaRegistry,
  admin: RegistryAdmin,
  bindings: readonly SchemaBinding[],
  log: Logger,
  level: CompatibilityLevel = SUBJECT_COMPATIBILITY,
): Promise<RegisterOutcome[]> {
  const outcomes: RegisterOutcome[] = [];
  for (const binding of bindings) {
    const { subject } = binding;
    // Set first: the client library refuses a subject whose level differs from the one it asks for.
    const current = await admin.compatibility(subject);
    if (current !== level) {
      if (current !== undefined && current !== 'NONE')
        log.warn({ subject, from: current, to: level }, 'subject compatibility level replaced');
      await admin.setCompatibility(subject, level);
    }
    try {
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(binding.schema) },
        { subject, compatibility: COMPATIBILITY[level] },
      );
      const found = await admin.lookup(subject, binding.schema);
      outcomes.push({ binding, id, version: found?.version });
      log.info(
        { subject, schema: binding.schemaName, id, version: found?.version },
        'schema registered',
      );
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      outcomes.push({
        binding,
        error:
          status === 409
            ? `refused: not ${level} compatible with the latest version (run \`continuum schemas check\` for why)`
            : errorMessage(err),
        status: typeof status === 'number' ? status : undefined,
      });
      log.warn({ subject, schema: binding.schemaName, status, err }, 'schema registration refused');
    }
  }
  return outcomes;
}

export type CheckState = 'new' | 'unchanged' | 'compatible' | 'incompatible';

/** A violation found against one registered version. */
export type VersionedViolation = CompatibilityViolation & { version: number };

export interface CheckOutcome {
  binding: SchemaBinding;
  state: CheckState;
  /** The subject's latest version and its id; undefined for a new subject. */
  latestVersion?: number;
  latestId?: number;
  /** The subject's own level as the registry reports it; undefined when none is set. */
  registryLevel?: string;
  /** The level the local explainer checked. */
  checkedLevel: CompatibilityLevel;
  /** The versions the explainer compared with: the latest, or all of them for a *_TRANSITIVE level. */
  comparedVersions: number[];
  /** The registry's answer; undefined when it was not asked (new or unchanged subject). */
  registryCompatible?: boolean;
  violations: VersionedViolation[];
  /** Set when the registry and the local explainer disagree, saying how. */
  disagreement?: string;
}

function explainedLevel(registryLevel: string | undefined): CompatibilityLevel {
  const base = registryLevel?.replace(/_TRANSITIVE$/, '');
  return (COMPATIBILITY_LEVELS as readonly string[]).includes(base ?? '')
    ? (base as CompatibilityLevel)
    : SUBJECT_COMPATIBILITY;
}

/** The registry calls `checkSchemas` needs (a port, so its decisions can be tested without one). */
export type CheckRegistry = Pick<
  RegistryAdmin,
  'latest' | 'compatibility' | 'lookup' | 'isCompatible' | 'versions' | 'version'
>;

/**
 * For each binding: is the local schema new, already registered, or (in)compatible with the
 * subject's latest version (every version for a *_TRANSITIVE level)? Asks the registry and runs
 * the local explainer, and says when the two disagree rather than hiding either answer.
 */
export async function checkSchemas(
  admin: CheckRegistry,
  bindings: readonly SchemaBinding[],
): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  for (const binding of bindings) {
    const { subject, schema } = binding;
    const latest = await admin.latest(subject);
    const registryLevel = await admin.compatibility(subject);
    const checkedLevel = explainedLevel(registryLevel);
    if (!latest) {
      outcomes.push({
        binding,
        state: 'new',
        registryLevel,
        checkedLevel,
        comparedVersions: [],
        violations: [],
      });
      continue;
    }
    const base = {
      binding,
      latestVersion: latest.version,
      latestId: latest.id,
      registryLevel,
      checkedLevel,
    };
    const same = await admin.lookup(subject, schema);
    if (same) {
      outcomes.push({ ...base, state: 'unchanged', comparedVersions: [], violations: [] });
      continue;
    }
    const transitive = registryLevel?.endsWith('_TRANSITIVE') === true;
    const previous = transitive
      ? await Promise.all((await admin.versions(subject)).map((v) => admin.version(subject, v)))
      : [latest];
    const answers = transitive
      ? await Promise.all(previous.map((p) => admin.isCompatible(subject, schema, p.version)))
      : [await admin.isCompatible(subject, schema)];
    const registryCompatible = answers.every(Boolean);
    const violations = previous.flatMap((old) =>
      explainCompatibility(old.schema, schema, checkedLevel).map((v) => ({
        ...v,
        version: old.version,
      })),
    );
    const levelText = registryLevel ?? 'its global default';
    let disagreement: string | undefined;
    if (!registryCompatible && violations.length === 0) {
      disagreement = `the registry refuses it (level ${levelText}) but the local explainer found no ${checkedLevel} violation against version(s) ${previous.map((p) => p.version).join(', ')}: the registry applies a rule the explainer does not model — ask its logs`;
    } else if (registryCompatible && violations.length > 0) {
      disagreement = `the registry accepts it (level ${levelText}) but the local explainer found ${violations.length} ${checkedLevel} violation(s): ${registryLevel === undefined || registryLevel === 'NONE' ? 'the subject has no compatibility rule, so the registry checks nothing' : 'the registry is more lenient than Avro schema resolution here'}`;
    }
    outcomes.push({
      ...base,
      state: registryCompatible && violations.length === 0 ? 'compatible' : 'incompatible',
      comparedVersions: previous.map((p) => p.version),
      registryCompatible,
      violations,
      ...(disagreement === undefined ? {} : { disagreement }),
    });
  }
  return outcomes;
}
