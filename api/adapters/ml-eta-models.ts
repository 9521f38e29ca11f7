// The EtaModels port on the platform: training requests go to the trainer's control endpoint
// (`continuum ml`, CONTINUUM_ML_TRAINER_URL), the model list comes from MLflow's registry (the
// versions, the alias `champion`, each version's run metrics). Either one down is a 503.
import { errorMessage } from '../../core/errors.ts';
import { CHAMPION_ALIAS, TAGS } from '../../ml/mlflow/eta-experiment.ts';
import { MlflowClient, MlflowError, type ModelVersion } from '../../ml/mlflow/mlflow-client.ts';
import {
  MlUnavailableError,
  type EtaModels,
  type ModelVersionView,
  type ModelsView,
  type TrainingJobView,
} from '../ports.ts';

export interface MlEtaModelsOptions {
  trainerUrl: string;
  mlflowUrl: string;
  modelName: string;
  timeoutMs: number;
}

async function trainerCall(
  options: MlEtaModelsOptions,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  try {
    return await fetch(`${options.trainerUrl}${path}`, {
      ...init,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    throw new MlUnavailableError(`the ETA trainer at ${options.trainerUrl} did not answer`, {
      cause: err,
      retriable: true,
    });
  }
}

async function jobOf(response: Response, options: MlEtaModelsOptions): Promise<TrainingJobView> {
  if (!response.ok)
    throw new MlUnavailableError(
      `the ETA trainer at ${options.trainerUrl} answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
      { retriable: response.status >= 500 },
    );
  return (await response.json()) as TrainingJobView;
}

function versionView(
  v: ModelVersion,
  champion: string | undefined,
): Omit<ModelVersionView, 'metrics'> {
  return {
    version: Number(v.version),
    runId: v.run_id ?? null,
    createdAt: v.creation_timestamp ?? null,
    status: v.status ?? 'READY',
    algorithm: v.tags?.find((t) => t.key === 'algorithm')?.value ?? null,
    champion: v.version === champion,
    description: v.description ?? '',
  };
}

export function mlEtaModels(options: MlEtaModelsOptions): EtaModels {
  // The API answers people: a short budget, one retry at most, rather than the trainer's 2 min.
  const mlflow = new MlflowClient({
    url: options.mlflowUrl,
    timeoutMs: options.timeoutMs,
    retry: { initialDelayMs: 100, maxDelayMs: 200, budgetMs: 300 },
  });
  return {
    async train(request) {
      const response = await trainerCall(options, '/train', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      });
      return { job: await jobOf(response, options), created: response.status === 202 };
    },

    async trainingJob(requestId) {
      const response = await trainerCall(options, `/train/${encodeURIComponent(requestId)}`);
      if (response.status === 404) return null;
      return jobOf(response, options);
    },

    async models(limit): Promise<ModelsView> {
      try {
        const registered = await mlflow.getRegisteredModel(options.modelName);
        if (!registered) return { modelName: options.modelName, champion: null, versions: [] };
        const champion = registered.aliases?.find((a) => a.alias === CHAMPION_ALIAS)?.version;
        const versions = (await mlflow.searchModelVersions(options.modelName))
          .sort((a, b) => Number(b.version) - Number(a.version))
          .slice(0, limit);
        const views = await Promise.all(
          versions.map(async (v) => {
            const run = v.run_id ? await mlflow.getRun(v.run_id).catch(() => undefined) : undefined;
            const metrics = Object.fromEntries(
              (run?.data.metrics ?? []).map((m) => [m.key, m.value] as const),
            );
            const view = versionView(v, champion);
            const algorithm =
              view.algorithm ??
              run?.data.tags?.find((t) => t.key === TAGS.algorithm)?.value ??
              null;
            return { ...view, algorithm, metrics };
          }),
        );
        return {
          modelName: options.modelName,
          champion: champion === undefined ? null : Number(champion),
          versions: views,
        };
      } catch (err) {
        if (err instanceof MlflowError)
          throw new MlUnavailableError(`MLflow at ${options.mlflowUrl}: ${errorMessage(err)}`, {
            cause: err,
            retriable: err.retriable,
          });
        throw err;
      }
    },
  };
}
