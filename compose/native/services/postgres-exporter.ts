// prometheus-community/postgres_exporter v0.19.1, built from the Go module proxy (v0.20 is not
// served there), beside the stack's PostgreSQL: connections, transactions, locks, replication
// slots and table activity for the system dashboard.
import { mkdir } from 'node:fs/promises';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { nativePostgresPassword } from '../../../core/native-postgres-password.ts';
import { goCommandBinary, goInstallPinned, type GoCommand } from '../go-install.ts';
import { probeExporter } from '../exporter-probe.ts';
import { cachePath, servicePaths, type NativeService } from '../native-service.ts';
import { writeScrapeTarget } from '../scrape-targets.ts';

export const POSTGRES_EXPORTER: GoCommand = {
  module: 'github.com/prometheus-community/postgres_exporter',
  version: 'v0.19.1',
  pkg: 'github.com/prometheus-community/postgres_exporter/cmd/postgres_exporter',
  binary: 'postgres_exporter',
};

/** The job name Prometheus gives it, natively and in docker-compose. */
export const POSTGRES_EXPORTER_JOB = 'postgres-exporter';

const installDir = (config: Config): string =>
  cachePath(config, `postgres_exporter-${POSTGRES_EXPORTER.version}`);

function address(config: Config): { host: string; port: number } {
  return { host: hostPortOf(config.postgres.url, 5432).host, port: config.exporters.postgres };
}

/**
 * The superuser of the stack's own cluster, with the stack's generated password (in the
 * exporter's environment, not its arguments): the statistics views show every session and
 * table only to it or to pg_monitor.
 */
function dataSourceName(config: Config): string {
  const { host, port } = hostPortOf(config.postgres.url, 5432);
  const database = new URL(config.postgres.url).pathname.replace(/^\//, '') || 'postgres';
  const password = encodeURIComponent(nativePostgresPassword(config.stateDir));
  return `postgresql://postgres:${password}@${host}:${port}/${database}?sslmode=disable`;
}

export const postgresExporterService: NativeService = {
  name: 'postgres-exporter',
  dependsOn: ['postgres'],
  url: (config) => `http://${address(config).host}:${address(config).port}/metrics`,

  async install(ctx) {
    await goInstallPinned(installDir(ctx.config), POSTGRES_EXPORTER, () =>
      ctx.report('postgres-exporter', `building postgres_exporter ${POSTGRES_EXPORTER.version}`),
    );
  },

  async prepare(ctx) {
    await mkdir(servicePaths(ctx.config, 'postgres-exporter').dir, { recursive: true });
    const { host, port } = address(ctx.config);
    await writeScrapeTarget(ctx.config, {
      name: POSTGRES_EXPORTER_JOB,
      address: `${host}:${port}`,
      labels: { job: POSTGRES_EXPORTER_JOB },
    });
  },

  launch(ctx) {
    const { host, port } = address(ctx.config);
    return {
      command: goCommandBinary(installDir(ctx.config), POSTGRES_EXPORTER),
      args: [`--web.listen-address=${host}:${port}`, '--log.level=warn'],
      env: { DATA_SOURCE_NAME: dataSourceName(ctx.config) },
    };
  },

  probe: (ctx) =>
    probeExporter(postgresExporterService.url(ctx.config), 'pg_up', POSTGRES_EXPORTER.version),
};
