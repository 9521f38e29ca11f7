// The MongoDB wire protocol from FerretDB v1.24.2 on SQLite, built from the Go module proxy.
// `go install` of it yields a binary that panics at start (its build/version/version.txt is
// not in the module), so we build from a copy of the module with that file written.
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { MongoClient } from 'mongodb';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { cachePath, servicePaths, type NativeService } from '../native-service.ts';
import { runCommand } from '../run-command.ts';

export const FERRETDB_VERSION = 'v1.24.2';
const MODULE = 'github.com/FerretDB/FerretDB';

function binary(config: Config): string {
  return cachePath(config, `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
}

async function makeWritable(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = nodePath.join(dir, entry.name);
    const mode = (await stat(full)).mode;
    await chmod(full, mode | 0o200);
    if (entry.isDirectory()) await makeWritable(full);
  }
}

export const mongodbService: NativeService = {
  name: 'mongodb',
  dependsOn: [],
  url: (config) => config.mongodb.url,

  async install(ctx) {
    const bin = binary(ctx.config);
    if (existsSync(bin)) return;
    ctx.report('mongodb', `downloading FerretDB ${FERRETDB_VERSION} from the Go module proxy`);
    const info = JSON.parse(
      await runCommand('go', ['mod', 'download', '-json', `${MODULE}@${FERRETDB_VERSION}`]),
    ) as { Dir?: string };
    if (!info.Dir) throw new Error('`go mod download` did not report the module directory');
    const src = cachePath(ctx.config, `ferretdb-${FERRETDB_VERSION}`, 'src');
    await rm(src, { recursive: true, force: true });
    await cp(info.Dir, src, { recursive: true });
    await chmod(src, 0o755);
    await makeWritable(src);
    await writeFile(nodePath.join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    ctx.report('mongodb', 'building FerretDB (about 2 minutes cold)');
    await runCommand('go', ['build', '-o', `${bin}.partial`, './cmd/ferretdb'], {
      cwd: src,
      env: { CGO_ENABLED: '0' },
    });
    await runCommand('mv', [`${bin}.partial`, bin]);
    await rm(src, { recursive: true, force: true });
  },

  async prepare(ctx) {
    await mkdir(servicePaths(ctx.config, 'mongodb').dataDir, { recursive: true });
  },

  launch(ctx) {
    const paths = servicePaths(ctx.config, 'mongodb');
    const { host, port } = hostPortOf(ctx.config.mongodb.url, 27017);
    return {
      command: binary(ctx.config),
      args: [
        '--handler=sqlite',
        `--sqlite-url=file:${paths.dataDir}/`,
        `--listen-addr=${host}:${port}`,
        // Its debug/metrics endpoint, next to the wire port so two stacks never collide.
        `--debug-addr=${host}:${port + 1000}`,
        `--state-dir=${paths.dir}`,
        '--telemetry=disable',
        '--log-level=warn',
      ],
      cwd: paths.dir,
    };
  },

  async probe(ctx) {
    const client = new MongoClient(ctx.config.mongodb.url, {
      serverSelectionTimeoutMS: 2_000,
      connectTimeoutMS: 2_000,
    });
    try {
      await client.connect();
      const info = await client.db('admin').command({ buildInfo: 1 });
      const ferret = (info as { ferretdbVersion?: string }).ferretdbVersion;
      return {
        ok: true,
        version: ferret
          ? `FerretDB ${ferret} (MongoDB ${String(info.version)})`
          : String(info.version),
      };
    } finally {
      await client.close();
    }
  },
};
