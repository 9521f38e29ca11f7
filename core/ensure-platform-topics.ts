// Creates the platform's missing topics and gives existing ones the configs the platform relies
// on, as the streams runtime does for its internal topics: a topic made by an older version, by
// hand, or by docker-compose's kafka-init before a config existed would otherwise keep (say)
// CreateTime, and time retention would delete a backfill of last month minutes after it is
// written. Every process that owns platform topics calls this at start, and `stack up` too.
import kafkajs, { type Admin, type ConfigEntries } from 'kafkajs';
import type { Config } from './config.ts';
import { createTopicsWithLeaders } from './create-topics.ts';
import { ContinuumError, errorMessage } from './errors.ts';
import type { Logger } from './logger.ts';
import { ENFORCED_TOPIC_CONFIGS, platformTopics, type TopicSpec } from './topics.ts';
import { waitFor } from './wait-for.ts';

const { ConfigResourceTypes, ConfigSource } = kafkajs;

export class PlatformTopicsError extends ContinuumError {
  override readonly code = 'PLATFORM_TOPICS_FAILED';
}

/** One config of an existing topic, as the broker describes it. */
export interface DescribedTopicConfig {
  value: string;
  /** Set on the topic itself, not inherited from the broker's defaults. */
  ownValue: boolean;
}

/** An existing topic whose configs were set: what it had, and what it got. */
export interface AlignedTopic {
  topic: string;
  had: Record<string, string>;
  set: Record<string, string>;
}

export interface PlatformTopicsReport {
  created: string[];
  aligned: AlignedTopic[];
}

/**
 * What an existing topic must be given to match its spec, or undefined when nothing. Enforced
 * configs are set whatever the topic has; the others only where the topic has no value of its
 * own (an operator's longer retention, or a test's retention.ms=-1, stays).
 */
export function topicConfigChanges(
  spec: TopicSpec,
  current: ReadonlyMap<string, DescribedTopicConfig>,
): Omit<AlignedTopic, 'topic'> | undefined {
  const had: Record<string, string> = {};
  const set: Record<string, string> = {};
  for (const { name, value } of spec.configEntries) {
    const have = current.get(name);
    const wrong = ENFORCED_TOPIC_CONFIGS.has(name)
      ? !satisfies(name, have?.value, value)
      : have === undefined || (!have.ownValue && have.value !== value);
    if (!wrong) continue;
    had[name] = have?.value ?? '(none)';
    set[name] = value;
  }
  return Object.keys(set).length === 0 ? undefined : { had, set };
}

/** `cleanup.policy` may hold more than compaction (say `compact,delete`); the rest must equal. */
function satisfies(name: string, have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (name === 'cleanup.policy') return have.split(',').includes(want);
  return have === want;
}

export async function ensurePlatformTopics(
  admin: Admin,
  config: Config,
  log: Logger,
): Promise<PlatformTopicsReport> {
  const specs = platformTopics(config);
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await createTopicsWithLeaders(admin, missing);
      log.info({ topics: missing.map((s) => s.topic) }, 'created platform topics');
    }
    const aligned = await alignExisting(
      admin,
      specs.filter((s) => existing.has(s.topic)),
    );
    for (const a of aligned)
      log.warn(
        { topic: a.topic, had: a.had, set: a.set },
        'platform topic lacked configs the platform relies on; set them',
      );
    return { created: missing.map((s) => s.topic), aligned };
  } catch (err) {
    throw new PlatformTopicsError(
      `could not create or align platform topics: ${errorMessage(err)}`,
      {
        cause: err,
        context: { topics: specs.map((s) => s.topic) },
      },
    );
  }
}

async function alignExisting(admin: Admin, specs: readonly TopicSpec[]): Promise<AlignedTopic[]> {
  if (specs.length === 0) return [];
  // Every config of each topic, not only ours: AlterConfigs needs the topic's own ones back.
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.topic })),
  });
  const described = new Map(resources.map((r) => [r.resourceName, r.configEntries]));
  const aligned: AlignedTopic[] = [];
  for (const spec of specs) {
    const entries = described.get(spec.topic) ?? [];
    const changes = topicConfigChanges(
      spec,
      new Map(
        entries.map((e) => [
          e.configName,
          { value: e.configValue, ownValue: e.configSource === ConfigSource.TOPIC_CONFIG },
        ]),
      ),
    );
    if (!changes) continue;
    await setTopicConfigs(admin, spec.topic, entries, changes.set);
    aligned.push({ topic: spec.topic, ...changes });
  }
  return aligned;
}

/**
 * kafkajs has only AlterConfigs, which replaces a topic's whole set of own configs (there is no
 * IncrementalAlterConfigs): send the ones it has, with ours over them. Sensitive values are
 * described as null and cannot be sent back; topics have none.
 */
async function setTopicConfigs(
  admin: Admin,
  topic: string,
  described: readonly ConfigEntries[],
  configs: Record<string, string>,
): Promise<void> {
  const merged = new Map(
    described
      .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive)
      .map((e) => [e.configName, e.configValue]),
  );
  for (const [name, value] of Object.entries(configs)) merged.set(name, value);
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: topic,
        configEntries: [...merged].map(([name, value]) => ({ name, value })),
      },
    ],
  });
  // The controller acknowledges once the change is in the metadata log; the broker applies it
  // a moment later. Records written in between would still get the old configs (say CreateTime).
  await waitFor(
    async () => {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      });
      const now = new Map(
        (resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
      );
      return Object.entries(configs).every(([name, value]) => now.get(name) === value);
    },
    { timeoutMs: 15_000, intervalMs: 50, description: `the broker to apply ${topic}'s configs` },
  );
}
