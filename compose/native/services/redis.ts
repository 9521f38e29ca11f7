// Redis 7 from Debian, run in the foreground of its own process group.
import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { hostPortOf } from '../../../core/config.ts';
import { servicePaths, type NativeService } from '../native-service.ts';

export const redisService: NativeService = {
  name: 'redis',
  dependsOn: [],
  url: (config) => config.redis.url,
  install: () => Promise.resolve(),

  async prepare(ctx) {
    await mkdir(servicePaths(ctx.config, 'redis').dataDir, { recursive: true });
  },

  launch(ctx) {
    const { host, port } = hostPortOf(ctx.config.redis.url, 6379);
    return {
      command: 'redis-server',
      args: [
        '--bind',
        host,
        '--port',
        String(port),
        '--dir',
        servicePaths(ctx.config, 'redis').dataDir,
        '--daemonize',
        'no',
        '--save',
        '60 1000',
        '--appendonly',
        'no',
        '--logfile',
        '',
      ],
    };
  },

  async probe(ctx) {
    const client = new Redis(ctx.config.redis.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined); // a refused connection is the probe's answer, not a crash
    try {
      await client.connect();
      const pong = await client.ping();
      const info = await client.info('server');
      return { ok: pong === 'PONG', version: /redis_version:(\S+)/.exec(info)?.[1] };
    } finally {
      client.disconnect();
    }
  },
};
