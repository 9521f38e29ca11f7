// GET /v1/ml/models (the ETA trainer's route, issue 11) read leniently: the page shows model
// versions, their metrics and the champion whatever the exact field names, and says so when the
// route is not there yet.
export interface ModelVersionRow {
  model: string;
  version: string;
  champion: boolean;
  metrics: Record<string, number>;
  trainedAt: number | null;
  runId: string | null;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function numbers(value: unknown): Record<string, number> {
  if (!isObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
}

function time(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}

function text(...values: unknown[]): string | null {
  for (const v of values) if (typeof v === 'string' || typeof v === 'number') return String(v);
  return null;
}

/** The versions listed, newest first; the champion marked. */
export function parseModels(body: unknown): ModelVersionRow[] {
  const holder = isObject(body) ? body : {};
  const list = Array.isArray(body)
    ? body
    : (([holder.models, holder.versions, holder.items].find(Array.isArray) as
        unknown[] | undefined) ?? []);
  const championVersion = isObject(holder.champion)
    ? text(holder.champion.version)
    : text(holder.champion);
  const rows = list.filter(isObject).flatMap((item): ModelVersionRow[] => {
    // A model holding its versions: one row per version.
    if (Array.isArray(item.versions))
      return parseModels({ versions: item.versions, champion: item.champion }).map((row) => ({
        ...row,
        model: row.model === '—' ? (text(item.name, item.modelName) ?? '—') : row.model,
      }));
    const version = text(item.version) ?? '?';
    const aliases = Array.isArray(item.aliases) ? item.aliases : [];
    return [
      {
        model: text(item.modelName, item.name, item.model) ?? '—',
        version,
        champion:
          item.champion === true ||
          item.isChampion === true ||
          aliases.includes('champion') ||
          (championVersion !== null && championVersion === version),
        metrics: { ...numbers(item.metrics), ...numbers({ mae: item.mae, rmse: item.rmse }) },
        trainedAt: time(item.trainedAt ?? item.createdAt ?? item.creationTimestamp),
        runId: text(item.mlflowRunId, item.runId),
      },
    ];
  });
  return rows.sort(
    (a, b) =>
      (b.trainedAt ?? 0) - (a.trainedAt ?? 0) ||
      b.version.localeCompare(a.version, undefined, { numeric: true }),
  );
}
