// `continuum replay`: the replay library from the command line — consumer-group offset resets
// (dry run unless --execute), view rebuilds with a progress bar, dead-letter re-drives.
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { failureReport } from '../../core/failure-report.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import { formatTable } from '../../core/table.ts';
import { shipmentStatePostgresDefaults } from '../../connectors/sinks/postgres/run-shipment-state-postgres.ts';
import { shipmentStateKeys } from '../../connectors/sinks/redis/shipment-state-hash.ts';
import { shipmentStateRedisDefaults } from '../../connectors/sinks/redis/run-shipment-state-redis.ts';
import { createSchemaRegistry } from '../../schemas/event-schemas.ts';
import type { UnifiedShipmentState } from '../../schemas/types.ts';
import type { ReplayRequest } from '../../replay/replay-jobs.ts';
import type { ReplayProgress } from '../../replay/replay-progress.ts';
import { replayRunners } from '../../replay/replay-runners.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnv } from './stack.ts';

function time(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`not a date-time: ${value} (e.g. 2026-12-05T10:00:00Z)`);
  return t;
}

/** `topic` or `topic:0,2`. */
function topicSelection(value: string, previous: { topic: string; partitions?: number[] }[] = []) {
  const [topic = '', list] = value.split(':');
  const partitions = list?.split(',').map(Number);
  if (partitions?.some((p) => !Number.isInteger(p) || p < 0))
    throw new Error(`expected topic or topic:partition,partition, got ${value}`);
  return [...previous, { topic, ...(partitions ? { partitions } : {}) }];
}

function progressBar(label: string): {
  update: (p: ReplayProgress) => void;
  stop: () => void;
} {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {percentage}% | {value}/{total} records | {rate}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (!started) {
        bar.start(Math.max(1, p.total), 0, { rate: 0 });
        started = true;
      }
      bar.setTotal(Math.max(1, p.total));
      bar.update(p.percent === 100 ? Math.max(1, p.total) : p.records, { rate: p.ratePerSecond });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

async function withRunners<T>(
  config: Config,
  env: CommandEnv,
  run: (runners: ReturnType<typeof replayRunners>) => Promise<T>,
): Promise<T> {
  const log = env.log();
  const kafka = createKafkaClient(config, 'replay', log);
  const admin = kafka.admin();
  await admin.connect();
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
  try {
    await redis.connect();
    const registry = createSchemaRegistry(config);
    const runners = replayRunners(
      {
        kafka,
        admin,
        config,
        decode: async (b) => (await registry.decode(b)) as UnifiedShipmentState,
        groupPrefix: `${config.streams.applicationPrefix}-replay`,
      },
      {
        stateTopic: config.topics.shipmentState,
        redis,
        redisKeys: shipmentStateKeys(shipmentStateRedisDefaults(config).keyNamespace),
        pool,
        postgresSchema: shipmentStatePostgresDefaults(config).schema,
      },
    );
    return await run(runners);
  } finally {
    await admin.disconnect();
    await redis.quit().catch(() => undefined);
    await pool.end();
  }
}

export function replayCommand(env: CommandEnv): Command {
  const replay = new Command('replay').description(
    'replay topics for backfills: reset a consumer group to a time, rebuild the materialized view, re-drive dead letters',
  );
  const fail = (what: string, err: unknown): void => {
    env.log().error({ err: errorMessage(err) }, `${what} failed`);
    env.out(`${what} failed: ${failureReport(err)}`);
    env.setExitCode(EXIT.failed);
  };
  const signalled = (): AbortSignal => {
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort(new Error('interrupted')));
    return controller.signal;
  };

  replay
    .command('offsets')
    .description(
      'reset a consumer group to a point in time (like kafka-consumer-groups --reset-offsets); a dry run unless --execute; refused while the group has members',
    )
    .requiredOption('--group <id>', 'the consumer group')
    .requiredOption(
      '--topic <topic[:partitions]>',
      'a topic, optionally with partitions (repeatable)',
      topicSelection,
    )
    .addOption(
      new Option('--to-datetime <iso>', 'first record at or after this time').argParser(time),
    )
    .option('--to-earliest', 'the first offset still in the log')
    .option('--to-latest', 'the log end')
    .option('--execute', 'commit the new offsets (default: only print them)')
    .action(
      async (opts: {
        group: string;
        topic: { topic: string; partitions?: number[] }[];
        toDatetime?: number;
        toEarliest?: boolean;
        toLatest?: boolean;
        execute?: boolean;
      }) => {
        const targets = [opts.toDatetime !== undefined, !!opts.toEarliest, !!opts.toLatest];
        if (targets.filter(Boolean).length !== 1) {
          env.out('give exactly one of --to-datetime, --to-earliest, --to-latest');
          env.setExitCode(EXIT.usage);
          return;
        }
        const request: Extract<ReplayRequest, { kind: 'reset-offsets' }> = {
          kind: 'reset-offsets',
          group: opts.group,
          topics: opts.topic,
          to:
            opts.toDatetime !== undefined
              ? { kind: 'datetime', timestamp: opts.toDatetime }
              : { kind: opts.toEarliest ? 'earliest' : 'latest' },
          execute: !!opts.execute,
        };
        try {
          const report = await withRunners(env.config(), env, (r) =>
            r.resetOffsets(request, { signal: signalled(), onProgress: () => undefined }),
          );
          env.out(
            formatTable(
              ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT', 'NEW'],
              report.rows.map((row) => [
                row.group,
                row.topic,
                String(row.partition),
                row.current === null ? '-' : String(row.current),
                String(row.new),
              ]),
            ),
          );
          env.out(
            report.executed
              ? 'offsets committed'
              : 'dry run: nothing changed (add --execute to commit these offsets)',
          );
        } catch (err) {
          fail('offset reset', err);
        }
      },
    );

  replay
    .command('view')
    .description(
      'rebuild the materialized view (Redis and PostgreSQL) from shipment.state, without downtime: newer states are kept',
    )
    .addOption(
      new Option('--from <iso>', 'records from this time (default: the beginning)').argParser(time),
    )
    .addOption(
      new Option('--until <iso>', 'records before this time (default: now)').argParser(time),
    )
    .action(async (opts: { from?: number; until?: number }) => {
      const bar = progressBar('rebuilding view');
      try {
        const report = await withRunners(env.config(), env, (r) =>
          r.rebuildView(
            { kind: 'rebuild-view', from: opts.from, until: opts.until },
            { signal: signalled(), onProgress: bar.update },
          ),
        );
        bar.stop();
        env.out(
          `rebuilt from ${report.records} records: ${Object.entries(report.applied)
            .map(([sink, n]) => `${n} states applied to ${sink}`)
            .join(
              ', ',
            )}${report.undecodable > 0 ? `, ${report.undecodable} undecodable skipped` : ''}`,
        );
      } catch (err) {
        bar.stop();
        fail('view rebuild', err);
      }
    });

  replay
    .command('dlq')
    .description(
      're-drive dead letters of a topic (<topic>.dlq) back to it, filtered by reason and failure time, each at most once; a dry run unless --execute',
    )
    .requiredOption('--topic <topic>', 'the topic the letters came from, e.g. telemetry.raw')
    .option('--reason <reason...>', 'only these reasons (or error codes)')
    .addOption(new Option('--failed-from <iso>', 'letters that failed at or after').argParser(time))
    .addOption(new Option('--failed-until <iso>', 'letters that failed before').argParser(time))
    .option('--execute', 'send them (default: only count them)')
    .action(
      async (opts: {
        topic: string;
        reason?: string[];
        failedFrom?: number;
        failedUntil?: number;
        execute?: boolean;
      }) => {
        const bar = progressBar('re-driving dead letters');
        try {
          const report = await withRunners(env.config(), env, (r) =>
            r.redriveDeadLetters(
              {
                kind: 'redrive-dead-letters',
                topic: opts.topic,
                reasons: opts.reason,
                failedFrom: opts.failedFrom,
                failedUntil: opts.failedUntil,
                execute: !!opts.execute,
              },
              { signal: signalled(), onProgress: bar.update },
            ),
          );
          bar.stop();
          env.out(
            formatTable(
              ['REASON', 'LETTERS'],
              Object.entries(report.byReason).map(([reason, n]) => [reason, String(n)]),
            ),
          );
          env.out(
            `${report.matched} matching, ${report.alreadyRedriven} re-driven before, ${report.executed ? `${report.redriven} re-driven now` : 'dry run: none sent (add --execute)'}`,
          );
        } catch (err) {
          bar.stop();
          fail('dead-letter re-drive', err);
        }
      },
    );
  return replay;
}
