// Prometheus from Debian, with a scrape configuration generated for the platform's processes
// plus a file_sd folder any process (or test) can drop a target file into.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { stringify } from 'yaml';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { repoRoot } from '../../../core/paths.ts';
import { probeFetch, servicePaths, type NativeService } from '../native-service.ts';

export function prometheusTargetsDir(config: Config): string {
  return nodePath.join(servicePaths(config, 'prometheus').dir, 'targets');
}

export interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  file_sd_configs?: { files: string[]; refresh_interval: string }[];
}

/** The alert rules generated with the dashboards (compose/grafana/code), shared with compose. */
const ALERT_RULES = nodePath.join(repoRoot, 'compose', 'prometheus', 'alerts.yml');

function alertRulesFile(config: Config): string {
  return nodePath.join(servicePaths(config, 'prometheus').dir, 'alerts.yml');
}

export interface PrometheusConfig {
  global: { scrape_interval: string; evaluation_interval: string };
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

/** The alert rules docker-compose's Prometheus loads too (their promtool tests are not *.rules.yml). */
export const PROMETHEUS_RULE_FILES = nodePath.join(
  repoRoot,
  'compose',
  'prometheus',
  'rules',
  '*.rules.yml',
);

/** The scrape configuration: Prometheus itself, each Continuum process, and file_sd targets. */
export function prometheusConfig(config: Config): PrometheusConfig {
  const self = hostPortOf(config.prometheus.url, 9090);
  const host = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host;
  const processes = Object.entries(config.metricsPorts).map(([process, port]) => ({
    targets: [`${host}:${port}`],
    labels: { process },
  }));
  return {
    global: { scrape_interval: '5s', evaluation_interval: '5s' },
    rule_files: [PROMETHEUS_RULE_FILES, alertRulesFile(config)],
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`${self.host}:${self.port}`] }] },
      { job_name: 'continuum', static_configs: processes },
      {
        job_name: 'continuum-dynamic',
        file_sd_configs: [
          {
            files: [nodePath.join(prometheusTargetsDir(config), '*.json')],
            refresh_interval: '5s',
          },
        ],
      },
    ],
  };
}

export const prometheusService: NativeService = {
  name: 'prometheus',
  dependsOn: [],
  url: (config) => config.prometheus.url,
  install: () => Promise.resolve(),

  async prepare(ctx) {
    const paths = servicePaths(ctx.config, 'prometheus');
    await mkdir(paths.dataDir, { recursive: true });
    await mkdir(prometheusTargetsDir(ctx.config), { recursive: true });
    await copyFile(ALERT_RULES, alertRulesFile(ctx.config));
    await writeFile(
      nodePath.join(paths.dir, 'prometheus.yml'),
      stringify(prometheusConfig(ctx.config)),
    );
  },

  launch(ctx) {
    const paths = servicePaths(ctx.config, 'prometheus');
    const { host, port } = hostPortOf(ctx.config.prometheus.url, 9090);
    return {
      command: 'prometheus',
      args: [
        `--config.file=${nodePath.join(paths.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${paths.dataDir}`,
        '--storage.tsdb.retention.time=7d',
        `--web.listen-address=${host}:${port}`,
        '--web.enable-lifecycle',
      ],
      cwd: paths.dir,
    };
  },

  async probe(ctx) {
    const ready = await probeFetch(`${ctx.config.prometheus.url}/-/ready`);
    if (!ready.ok) return { ok: false, detail: `GET /-/ready answered ${ready.status}` };
    const info = await probeFetch(`${ctx.config.prometheus.url}/api/v1/status/buildinfo`);
    const body = (await info.json()) as { data?: { version?: string } };
    return { ok: true, version: body.data?.version };
  },
};
