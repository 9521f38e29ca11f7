// Apicurio Registry 3.0.9 (Java 17) with KafkaSQL storage: schemas live in Kafka, as with
// Confluent's registry, and the Confluent API is served under /apis/ccompat/v7.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { cachePath, probeFetch, servicePaths, type NativeService } from '../native-service.ts';
import { runCommand } from '../run-command.ts';

export const APICURIO_VERSION = '3.0.9';

function home(config: Config): string {
  return cachePath(config, `apicurio-registry-${APICURIO_VERSION}`);
}

function runnerJar(config: Config): string {
  return nodePath.join(home(config), `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`);
}

export const schemaRegistryService: NativeService = {
  name: 'schema-registry',
  dependsOn: ['kafka'],
  url: (config) => config.schemaRegistry.url,

  async install(ctx) {
    const dir = home(ctx.config);
    if (existsSync(nodePath.join(dir, '.complete'))) return;
    const download = `${dir}.download`;
    await rm(download, { recursive: true, force: true });
    await mkdir(download, { recursive: true });
    ctx.report(
      'schema-registry',
      `downloading Apicurio Registry ${APICURIO_VERSION} (108 MB) from Maven Central`,
    );
    await runCommand('mvn', [
      '-q',
      '-B',
      'dependency:copy',
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:zip:all`,
      `-DoutputDirectory=${download}`,
    ]);
    const zip = (await readdir(download)).find((f) => f.endsWith('.zip'));
    if (!zip) throw new Error(`no zip downloaded into ${download}`);
    ctx.report('schema-registry', 'unpacking');
    await runCommand('python3', ['-m', 'zipfile', '-e', nodePath.join(download, zip), download]);
    await rm(nodePath.join(download, zip));
    await rm(dir, { recursive: true, force: true });
    await rename(download, dir);
    await writeFile(nodePath.join(dir, '.complete'), new Date().toISOString());
  },

  async prepare(ctx) {
    await mkdir(servicePaths(ctx.config, 'schema-registry').dir, { recursive: true });
  },

  launch(ctx) {
    const { host, port } = hostPortOf(ctx.config.schemaRegistry.url, 8081);
    return {
      command: 'java',
      args: [
        '-Xms128m',
        '-Xmx512m',
        `-Dquarkus.http.host=${host}`,
        `-Dquarkus.http.port=${port}`,
        '-Dapicurio.storage.kind=kafkasql',
        `-Dapicurio.kafkasql.bootstrap.servers=${ctx.config.kafka.brokers.join(',')}`,
        '-Dquarkus.log.console.json=false',
        '-jar',
        runnerJar(ctx.config),
      ],
      cwd: servicePaths(ctx.config, 'schema-registry').dir,
    };
  },

  async probe(ctx) {
    const subjects = await probeFetch(`${ctx.config.schemaRegistry.url}/subjects`);
    if (!subjects.ok) return { ok: false, detail: `GET /subjects answered ${subjects.status}` };
    if (!Array.isArray(await subjects.json()))
      return { ok: false, detail: 'GET /subjects did not answer a list' };
    const base = new URL(ctx.config.schemaRegistry.url);
    const info = await probeFetch(`${base.origin}/apis/registry/v3/system/info`).catch(
      () => undefined,
    );
    const version = info?.ok ? ((await info.json()) as { version?: string }).version : undefined;
    return { ok: true, version: version ?? APICURIO_VERSION };
  },
};
