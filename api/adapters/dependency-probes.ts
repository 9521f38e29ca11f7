// /ready's probes: one real request to each service the API reads or writes.
import type { Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type pg from 'pg';
import type { DependencyProbe } from '../ports.ts';

export function dependencyProbes(clients: {
  admin: Admin;
  registryUrl: string;
  redis: Redis;
  pool: pg.Pool;
  mongo: Db;
}): DependencyProbe[] {
  return [
    {
      name: 'kafka',
      check: async () => {
        await clients.admin.describeCluster();
      },
    },
    {
      name: 'schema-registry',
      check: async () => {
        const res = await fetch(`${clients.registryUrl}/subjects`, {
          signal: AbortSignal.timeout(2_000),
        });
        if (!res.ok) throw new Error(`GET /subjects answered ${res.status}`);
      },
    },
    {
      name: 'redis',
      check: async () => {
        if ((await clients.redis.ping()) !== 'PONG') throw new Error('PING did not answer PONG');
      },
    },
    {
      name: 'postgres',
      check: async () => {
        await clients.pool.query('SELECT 1');
      },
    },
    {
      name: 'mongodb',
      check: async () => {
        await clients.mongo.command({ ping: 1 });
      },
    },
  ];
}
