// The replay runners on the real platform: Kafka for offsets and dead letters, the Redis and
// PostgreSQL state sinks for view rebuilds. One place wires them, for the API and the CLI.
import type { Admin, Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { KafkaClientConfig } from '../core/kafka-client.ts';
import { ShipmentStatePostgresSink } from '../connectors/sinks/postgres/shipment-state-postgres-sink.ts';
import type { ShipmentStateKeys } from '../connectors/sinks/redis/shipment-state-hash.ts';
import { ShipmentStateRedisSink } from '../connectors/sinks/redis/shipment-state-redis-sink.ts';
import type { UnifiedShipmentState } from '../schemas/types.ts';
import { redriveDeadLetters } from './dead-letter-redrive.ts';
import { resetGroupOffsets } from './offset-reset.ts';
import { rebuildView } from './rebuild-view.ts';
import type { ReplayRunners } from './replay-jobs.ts';

export interface ReplayTargets {
  /** shipment.state, the log the view is rebuilt from. */
  stateTopic: string;
  redis: Redis;
  redisKeys: ShipmentStateKeys;
  pool: pg.Pool;
  postgresSchema: string;
}

export interface ReplayKafka {
  kafka: Kafka;
  admin: Admin;
  config: KafkaClientConfig;
  decode: (value: Buffer) => Promise<UnifiedShipmentState>;
  /** Prefix of the throwaway consumer groups and transactional ids replays use. */
  groupPrefix: string;
}

export function replayRunners(kafka: ReplayKafka, targets: ReplayTargets): ReplayRunners {
  return {
    resetOffsets: async (request, ctx) => {
      const report = await resetGroupOffsets(kafka.admin, kafka.config, request, {
        execute: request.execute,
      });
      ctx.onProgress({
        records: report.rows.length,
        total: report.rows.length,
        percent: 100,
        ratePerSecond: 0,
        etaSeconds: 0,
      });
      return report;
    },
    rebuildView: async (request, ctx) => {
      const postgres = new ShipmentStatePostgresSink(targets.pool, {
        schema: targets.postgresSchema,
      });
      await postgres.ensureTable();
      return rebuildView(
        {
          kafka: kafka.kafka,
          admin: kafka.admin,
          config: kafka.config,
          topic: targets.stateTopic,
          decode: kafka.decode,
          sinks: [new ShipmentStateRedisSink(targets.redis, { keys: targets.redisKeys }), postgres],
          groupPrefix: `${kafka.groupPrefix}-rebuild`,
        },
        request,
        ctx,
      );
    },
    redriveDeadLetters: (request, ctx) =>
      redriveDeadLetters(
        {
          kafka: kafka.kafka,
          admin: kafka.admin,
          config: kafka.config,
          groupPrefix: `${kafka.groupPrefix}-redrive`,
        },
        request,
        { execute: request.execute, signal: ctx.signal, onProgress: ctx.onProgress },
      ),
  };
}
