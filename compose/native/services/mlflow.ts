// MLflow tracking server in a virtualenv cached outside the work tree; SQLite backend store,
// artifacts stored locally and served through the server (mlflow-artifacts:/).
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { hostPortOf, type Config } from '../../../core/config.ts';
import { cachePath, probeFetch, servicePaths, type NativeService } from '../native-service.ts';
import { runCommand } from '../run-command.ts';

export const MLFLOW_VERSION = '3.17.2';

function venv(config: Config): string {
  return cachePath(config, `mlflow-${MLFLOW_VERSION}`, 'venv');
}

export const mlflowService: NativeService = {
  name: 'mlflow',
  dependsOn: [],
  url: (config) => config.mlflow.url,

  async install(ctx) {
    const dir = venv(ctx.config);
    const marker = nodePath.join(dir, '.complete');
    if (existsSync(marker)) return;
    await rm(dir, { recursive: true, force: true });
    ctx.report('mlflow', 'creating virtualenv');
    await runCommand('python3', ['-m', 'venv', dir]);
    ctx.report('mlflow', `pip install mlflow==${MLFLOW_VERSION} (about 3 minutes cold)`);
    let packages = 0;
    await runCommand(
      nodePath.join(dir, 'bin', 'pip'),
      ['install', '--disable-pip-version-check', `mlflow==${MLFLOW_VERSION}`],
      {
        onOutput: (chunk) => {
          packages += (chunk.match(/^(Collecting|Using cached) /gm) ?? []).length;
          if (packages > 0)
            ctx.report(
              'mlflow',
              `pip install mlflow==${MLFLOW_VERSION}: ${packages} packages resolved`,
            );
        },
      },
    );
    await writeFile(marker, new Date().toISOString());
  },

  async prepare(ctx) {
    const paths = servicePaths(ctx.config, 'mlflow');
    await mkdir(nodePath.join(paths.dataDir, 'artifacts'), { recursive: true });
  },

  launch(ctx) {
    const paths = servicePaths(ctx.config, 'mlflow');
    const { host, port } = hostPortOf(ctx.config.mlflow.url, 5000);
    return {
      command: nodePath.join(venv(ctx.config), 'bin', 'mlflow'),
      args: [
        'server',
        '--host',
        host,
        '--port',
        String(port),
        '--workers',
        '1',
        '--backend-store-uri',
        `sqlite:///${nodePath.join(paths.dataDir, 'mlflow.db')}`,
        '--artifacts-destination',
        nodePath.join(paths.dataDir, 'artifacts'),
      ],
      cwd: paths.dir,
      env: { MLFLOW_TRACKING_DIR: paths.dataDir, PYTHONUNBUFFERED: '1' },
    };
  },

  async probe(ctx) {
    const health = await probeFetch(`${ctx.config.mlflow.url}/health`);
    if (!health.ok) return { ok: false, detail: `GET /health answered ${health.status}` };
    const search = await probeFetch(
      `${ctx.config.mlflow.url}/api/2.0/mlflow/experiments/search?max_results=1`,
    );
    if (!search.ok) return { ok: false, detail: `experiments/search answered ${search.status}` };
    const version = await probeFetch(`${ctx.config.mlflow.url}/version`).then((r) =>
      r.ok ? r.text() : undefined,
    );
    return { ok: true, version: version?.trim() ?? MLFLOW_VERSION };
  },
};
