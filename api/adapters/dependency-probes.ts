// /ready's probes: one real request to each service the API reads or writes.
import type { Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type pg from 'pg';
import {
  kafkaProbe,
  postgresProbe,
  schemaRegistryProbe,
  type DependencyProbe,
} from '../../core/dependency-probes.ts';

export function dependencyProbes(clients: {
  admin: Admin;
  registryUrl: string;
  redis: Redis;
  pool: pg.Pool;
  mongo: Db;
}): DependencyProbe[] {
  return [
    kafkaProbe(clients.admin),
    schemaRegistryProbe(clients.registryUrl),
    {
      name: 'redis',
      check: async () => {
        if ((await clients.redis.ping()) !== 'PONG') throw new Error('PING did not answer PONG');
      },
    },
    postgresProbe(clients.pool),
    {
      name: 'mongodb',
      check: async () => {
        await clients.mongo.command({ ping: 1 });
      },
    },
  ];
}
