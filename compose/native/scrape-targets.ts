// Targets the stack's Prometheus finds through file_sd (its `continuum-dynamic` job): one JSON
// file per exporter. A running Prometheus picks a new file up within seconds, so an exporter
// added to a stack that is already running is scraped without restarting Prometheus.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import type { Config } from '../../core/config.ts';
import { prometheusTargetsDir } from './services/prometheus.ts';

export interface ScrapeTarget {
  /** The file's name, without `.json`. */
  name: string;
  /** host:port of the /metrics endpoint. */
  address: string;
  /** `job` names the exporter (the same job names as compose/prometheus/prometheus.yml). */
  labels: { job: string } & Record<string, string>;
}

export function scrapeTargetFile(config: Config, name: string): string {
  return nodePath.join(prometheusTargetsDir(config), `${name}.json`);
}

export async function writeScrapeTarget(config: Config, target: ScrapeTarget): Promise<void> {
  const file = scrapeTargetFile(config, target.name);
  await mkdir(nodePath.dirname(file), { recursive: true });
  const body = [{ targets: [target.address], labels: target.labels }];
  // Written aside, then renamed: Prometheus must never read half a file.
  await writeFile(`${file}.partial`, `${JSON.stringify(body, null, 2)}\n`);
  await rename(`${file}.partial`, file);
}
