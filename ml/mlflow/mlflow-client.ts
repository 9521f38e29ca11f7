// A small typed client of MLflow's REST API (no maintained JS SDK exists): tracking (experiments,
// runs, metrics, params, tags), artifacts through the tracking server's proxy, and the model
// registry (versions, aliases). Every request has a timeout; what may pass on a second try
// (connection errors, timeouts, 429, 5xx) is retried with backoff, and each retry is reported.
import { ContinuumError, errorMessage } from '../../core/errors.ts';
import {
  RETRY_DEFAULTS,
  retryWithBackoff,
  type RetryEvent,
  type RetryPolicy,
} from '../../core/retry.ts';

export class MlflowError extends ContinuumError {
  override readonly code = 'MLFLOW_REQUEST_FAILED';
  /** HTTP status, or undefined when no answer came (connection refused, timeout). */
  readonly status: number | undefined;
  /** MLflow's own code, e.g. RESOURCE_DOES_NOT_EXIST, RESOURCE_ALREADY_EXISTS. */
  readonly errorCode: string | undefined;

  constructor(
    message: string,
    options: {
      status?: number;
      errorCode?: string;
      retriable: boolean;
      cause?: unknown;
      context?: Record<string, unknown>;
    },
  ) {
    super(message, {
      retriable: options.retriable,
      cause: options.cause,
      context: options.context,
    });
    this.status = options.status;
    this.errorCode = options.errorCode;
  }
}

export interface MlflowClientOptions {
  /** e.g. http://127.0.0.1:5000 */
  url: string;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Called before every retry (count it, log it). */
  onRetry?: (event: RetryEvent & { operation: string }) => void;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: 'active' | 'deleted';
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  start_time?: number;
  end_time?: number;
  /** e.g. mlflow-artifacts:/3/<run id>/artifacts */
  artifact_uri: string;
  lifecycle_stage?: string;
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
}

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  source?: string;
  run_id?: string;
  status?: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';
  status_message?: string;
  description?: string;
  aliases?: string[];
  tags?: KeyValue[];
}

export interface RegisteredModel {
  name: string;
  aliases?: { alias: string; version: string }[];
  latest_versions?: ModelVersion[];
}

export interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** MLflow's batch limits (log-batch): larger batches are sent in chunks. */
const BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100 } as const;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function isRetriable(err: unknown): boolean {
  return err instanceof MlflowError && err.retriable;
}

/** The server's path of an artifact root: mlflow-artifacts:/3/<run>/artifacts → 3/<run>/artifacts. */
export function artifactPath(artifactUri: string): string {
  const match = /^mlflow-artifacts:\/+(.*)$/.exec(artifactUri);
  if (!match?.[1])
    throw new MlflowError(
      `artifacts at ${artifactUri} are not served by the tracking server (run it with --artifacts-destination)`,
      { retriable: false, context: { artifactUri } },
    );
  return match[1].replace(/\/+$/, '');
}

export class MlflowClient {
  private readonly options: MlflowClientOptions;

  constructor(options: Partial<MlflowClientOptions> & { url: string }) {
    this.options = { timeoutMs: 10_000, retry: RETRY_DEFAULTS, ...options };
  }

  /**
   * What is wrong with the server by its `/health`, asked once and not retried (undefined: it
   * answers). For readiness: a quick answer, not a call that must go through.
   */
  async health(timeoutMs = 2_000): Promise<string | undefined> {
    try {
      const res = await fetch(new URL('health', `${this.options.url}/`), {
        signal: AbortSignal.timeout(timeoutMs),
      });
      return res.ok ? undefined : `GET /health answered ${res.status}`;
    } catch (err) {
      return `unreachable: ${errorMessage(err)}`;
    }
  }

  /** One request, retried; `operation` names it in errors, logs and metrics. */
  private async request<T>(
    operation: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
    path: string,
    body?: {
      json?: unknown;
      query?: Record<string, string>;
      raw?: Buffer | string;
      contentType?: string;
    },
  ): Promise<T> {
    const url = new URL(path, `${this.options.url}/`);
    for (const [k, v] of Object.entries(body?.query ?? {})) url.searchParams.set(k, v);
    return retryWithBackoff(
      async () => {
        let response: Response;
        try {
          response = await fetch(url, {
            method,
            headers:
              body?.json !== undefined
                ? { 'content-type': 'application/json' }
                : body?.raw !== undefined
                  ? { 'content-type': body.contentType ?? 'application/octet-stream' }
                  : {},
            body:
              body?.json !== undefined
                ? JSON.stringify(body.json)
                : body?.raw !== undefined
                  ? typeof body.raw === 'string'
                    ? body.raw
                    : new Uint8Array(body.raw)
                  : undefined,
            signal: AbortSignal.timeout(this.options.timeoutMs),
          });
        } catch (err) {
          // No answer: refused, reset, or the timeout.
          throw new MlflowError(`MLflow ${operation}: no answer from ${this.options.url}`, {
            retriable: true,
            cause: err,
            context: { operation },
          });
        }
        const text = await response.text();
        if (!response.ok) {
          let errorCode: string | undefined;
          let message = text.slice(0, 500);
          try {
            const parsed = JSON.parse(text) as { error_code?: string; message?: string };
            errorCode = parsed.error_code;
            message = parsed.message ?? message;
          } catch {
            // Not JSON (a proxy's page): the text is the message.
          }
          throw new MlflowError(`MLflow ${operation} answered ${response.status}: ${message}`, {
            status: response.status,
            errorCode,
            retriable: response.status === 429 || response.status >= 500,
            context: { operation },
          });
        }
        return (text === '' ? {} : JSON.parse(text)) as T;
      },
      {
        ...this.options.retry,
        isRetriable,
        onRetry: (event) => this.options.onRetry?.({ ...event, operation }),
      },
    );
  }

  private api<T>(
    operation: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    endpoint: string,
    payload: Record<string, unknown> = {},
  ): Promise<T> {
    const path = `api/2.0/mlflow/${endpoint}`;
    if (method === 'GET')
      return this.request<T>(operation, method, path, {
        query: Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])),
      });
    return this.request<T>(operation, method, path, { json: payload });
  }

  // ---- experiments and runs -----------------------------------------------------------

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await this.api<{ experiment: Experiment }>(
        'experiments/get-by-name',
        'GET',
        'experiments/get-by-name',
        { experiment_name: name },
      );
      return r.experiment;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST')
        return undefined;
      throw err;
    }
  }

  /** The id of the active experiment `name`: found, restored when deleted, or created. */
  async ensureExperiment(name: string, tags: KeyValue[] = []): Promise<string> {
    const found = await this.getExperimentByName(name);
    if (found?.lifecycle_stage === 'deleted') {
      await this.api('experiments/restore', 'POST', 'experiments/restore', {
        experiment_id: found.experiment_id,
      });
      return found.experiment_id;
    }
    if (found) return found.experiment_id;
    try {
      const created = await this.api<{ experiment_id: string }>(
        'experiments/create',
        'POST',
        'experiments/create',
        { name, tags },
      );
      return created.experiment_id;
    } catch (err) {
      // Another trainer created it in between.
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getExperimentByName(name);
        if (again) return again.experiment_id;
      }
      throw err;
    }
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    await this.api('experiments/delete', 'POST', 'experiments/delete', {
      experiment_id: experimentId,
    });
  }

  async createRun(run: {
    experimentId: string;
    runName: string;
    startTime: number;
    tags?: KeyValue[];
  }): Promise<RunInfo> {
    const r = await this.api<{ run: Run }>('runs/create', 'POST', 'runs/create', {
      experiment_id: run.experimentId,
      run_name: run.runName,
      start_time: run.startTime,
      tags: run.tags ?? [],
    });
    return r.run.info;
  }

  async logBatch(
    runId: string,
    batch: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] },
  ): Promise<void> {
    const metrics = chunks(batch.metrics ?? [], BATCH_LIMITS.metrics);
    const params = chunks(batch.params ?? [], BATCH_LIMITS.params);
    const tags = chunks(batch.tags ?? [], BATCH_LIMITS.tags);
    const rounds = Math.max(metrics.length, params.length, tags.length);
    for (let i = 0; i < rounds; i++)
      await this.api('runs/log-batch', 'POST', 'runs/log-batch', {
        run_id: runId,
        metrics: metrics[i] ?? [],
        params: params[i] ?? [],
        tags: tags[i] ?? [],
      });
  }

  async finishRun(runId: string, status: 'FINISHED' | 'FAILED', endTime: number): Promise<void> {
    await this.api('runs/update', 'POST', 'runs/update', {
      run_id: runId,
      status,
      end_time: endTime,
    });
  }

  async getRun(runId: string): Promise<Run> {
    const r = await this.api<{ run: Run }>('runs/get', 'GET', 'runs/get', { run_id: runId });
    return r.run;
  }

  /** Runs matching an MLflow filter, e.g. tags.`continuum.request_id` = 'x'. */
  async searchRuns(search: {
    experimentIds: string[];
    filter?: string;
    maxResults?: number;
    orderBy?: string[];
  }): Promise<Run[]> {
    const r = await this.api<{ runs?: Run[] }>('runs/search', 'POST', 'runs/search', {
      experiment_ids: search.experimentIds,
      filter: search.filter ?? '',
      max_results: search.maxResults ?? 100,
      order_by: search.orderBy ?? [],
    });
    return r.runs ?? [];
  }

  // ---- artifacts ----------------------------------------------------------------------

  /** Uploads one file under a run's artifact root (the server's artifact proxy). */
  async uploadArtifact(
    artifactUri: string,
    path: string,
    content: Buffer | string,
    contentType: string,
  ): Promise<void> {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    await this.request(
      `upload ${path}`,
      'PUT',
      `api/2.0/mlflow-artifacts/artifacts/${artifactPath(artifactUri)}/${encoded}`,
      { raw: content, contentType },
    );
  }

  async listArtifacts(runId: string, path?: string): Promise<ArtifactFile[]> {
    const r = await this.api<{ files?: ArtifactFile[] }>(
      'artifacts/list',
      'GET',
      'artifacts/list',
      {
        run_id: runId,
        ...(path === undefined ? {} : { path }),
      },
    );
    return r.files ?? [];
  }

  // ---- model registry -----------------------------------------------------------------

  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    try {
      const r = await this.api<{ registered_model: RegisteredModel }>(
        'registered-models/get',
        'GET',
        'registered-models/get',
        { name },
      );
      return r.registered_model;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST')
        return undefined;
      throw err;
    }
  }

  async ensureRegisteredModel(name: string, description: string): Promise<void> {
    if (await this.getRegisteredModel(name)) return;
    try {
      await this.api('registered-models/create', 'POST', 'registered-models/create', {
        name,
        description,
      });
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') return;
      throw err;
    }
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.api('registered-models/delete', 'DELETE', 'registered-models/delete', { name });
  }

  async createModelVersion(version: {
    name: string;
    source: string;
    runId: string;
    description?: string;
    tags?: KeyValue[];
  }): Promise<ModelVersion> {
    const r = await this.api<{ model_version: ModelVersion }>(
      'model-versions/create',
      'POST',
      'model-versions/create',
      {
        name: version.name,
        source: version.source,
        run_id: version.runId,
        description: version.description ?? '',
        tags: version.tags ?? [],
      },
    );
    return r.model_version;
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const r = await this.api<{ model_version: ModelVersion }>(
      'model-versions/get',
      'GET',
      'model-versions/get',
      { name, version },
    );
    return r.model_version;
  }

  async searchModelVersions(name: string, maxResults = 200): Promise<ModelVersion[]> {
    const r = await this.api<{ model_versions?: ModelVersion[] }>(
      'model-versions/search',
      'GET',
      'model-versions/search',
      { filter: `name='${name.replaceAll("'", "\\'")}'`, max_results: maxResults },
    );
    return r.model_versions ?? [];
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.api('registered-models/alias', 'POST', 'registered-models/alias', {
      name,
      alias,
      version,
    });
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    try {
      const r = await this.api<{ model_version: ModelVersion }>(
        'registered-models/alias',
        'GET',
        'registered-models/alias',
        { name, alias },
      );
      return r.model_version;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST')
        return undefined;
      throw err;
    }
  }
}
