// A fresh demo: the stream applications and the state sinks forget earlier runs. The
// applications lose their stores (group and internal topics deleted) and, like the sinks, start
// at the end of their inputs; the materialized state in Redis and PostgreSQL is emptied. The
// system of record (the shipments table), the topics' history and the telemetry archive stay.
import type { Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../../core/config.ts';
import { shipmentStateRedisDefaults } from '../../connectors/sinks/redis/run-shipment-state-redis.ts';
import { shipmentStateKeys } from '../../connectors/sinks/redis/shipment-state-hash.ts';
import { shipmentStatePostgresDefaults } from '../../connectors/sinks/postgres/run-shipment-state-postgres.ts';
import { resetStreamsApplication, type ResetReport } from '../../streams/reset-application.ts';
import { streamApplications, streamTopics } from '../../streams/topologies.ts';

export interface FreshStartReport {
  applications: ResetReport[];
  redisKeysDeleted: number;
  postgresRowsDeleted: number;
}

export async function freshStart(
  config: Config,
  clients: { admin: Admin; redis: Redis; pool: pg.Pool },
): Promise<FreshStartReport> {
  const applications: ResetReport[] = [];
  for (const app of streamApplications(
    config.streams.applicationPrefix,
    streamTopics(config.topics),
  )) {
    applications.push(
      await resetStreamsApplication(clients.admin, app.applicationId, {
        inputs: 'latest',
        inputTopics: app.inputs,
        stateDir: config.streams.stateDir,
      }),
    );
  }
  for (const sink of [shipmentStateRedisDefaults(config), shipmentStatePostgresDefaults(config)]) {
    applications.push(
      await resetStreamsApplication(clients.admin, sink.groupId, {
        inputs: 'latest',
        inputTopics: [sink.topic],
      }),
    );
  }
  const keys = shipmentStateKeys(shipmentStateRedisDefaults(config).keyNamespace);
  let redisKeysDeleted = 0;
  for (const pattern of [`${keys.hashPrefix}*`, `${keys.statusPrefix}*`, keys.geoKey]) {
    let cursor = '0';
    do {
      const [next, found] = await clients.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (found.length > 0) redisKeysDeleted += await clients.redis.del(...found);
    } while (cursor !== '0');
  }
  const schema = shipmentStatePostgresDefaults(config).schema;
  const exists = await clients.pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
    `${schema}.shipment_state`,
  ]);
  let postgresRowsDeleted = 0;
  if (exists.rows[0]?.t) {
    const deleted = await clients.pool.query(`DELETE FROM "${schema}".shipment_state`);
    postgresRowsDeleted = deleted.rowCount ?? 0;
  }
  return { applications, redisKeysDeleted, postgresRowsDeleted };
}
