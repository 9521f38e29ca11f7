// oliver006/redis_exporter v1.82.0, built from the Go module proxy (1.85+ is not served there),
// beside the stack's Redis: memory, clients, commands and keyspace for the system dashboard.
import { mkdir } from 'node:fs/promises';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { goCommandBinary, goInstallPinned, type GoCommand } from '../go-install.ts';
import { probeExporter } from '../exporter-probe.ts';
import { cachePath, servicePaths, type NativeService } from '../native-service.ts';
import { writeScrapeTarget } from '../scrape-targets.ts';

export const REDIS_EXPORTER: GoCommand = {
  module: 'github.com/oliver006/redis_exporter',
  version: 'v1.82.0',
  binary: 'redis_exporter',
};

/** The job name Prometheus gives it, natively and in docker-compose. */
export const REDIS_EXPORTER_JOB = 'redis-exporter';

const installDir = (config: Config): string =>
  cachePath(config, `redis_exporter-${REDIS_EXPORTER.version}`);

function address(config: Config): { host: string; port: number } {
  return { host: hostPortOf(config.redis.url, 6379).host, port: config.exporters.redis };
}

export const redisExporterService: NativeService = {
  name: 'redis-exporter',
  dependsOn: ['redis'],
  url: (config) => `http://${address(config).host}:${address(config).port}/metrics`,

  async install(ctx) {
    await goInstallPinned(installDir(ctx.config), REDIS_EXPORTER, () =>
      ctx.report('redis-exporter', `building redis_exporter ${REDIS_EXPORTER.version}`),
    );
  },

  async prepare(ctx) {
    await mkdir(servicePaths(ctx.config, 'redis-exporter').dir, { recursive: true });
    const { host, port } = address(ctx.config);
    await writeScrapeTarget(ctx.config, {
      name: REDIS_EXPORTER_JOB,
      address: `${host}:${port}`,
      labels: { job: REDIS_EXPORTER_JOB },
    });
  },

  launch(ctx) {
    const { host, port } = address(ctx.config);
    return {
      command: goCommandBinary(installDir(ctx.config), REDIS_EXPORTER),
      args: ['-redis.addr', ctx.config.redis.url, '-web.listen-address', `${host}:${port}`],
    };
  },

  probe: (ctx) =>
    probeExporter(redisExporterService.url(ctx.config), 'redis_up', REDIS_EXPORTER.version),
};
