// An exporter is ready when its /metrics answers and reports that it reached what it measures
// (`pg_up 1`, `redis_up 1`): a real scrape, not an open port.
import { probeFetch, type ProbeResult } from './native-service.ts';

/**
 * `version` is the one the stack built: exporters built from the module proxy carry no version
 * in their build info (it is set by their release builds' linker flags).
 */
export async function probeExporter(
  url: string,
  upMetric: string,
  version: string,
): Promise<ProbeResult> {
  const response = await probeFetch(url);
  if (!response.ok) return { ok: false, detail: `GET ${url} answered ${response.status}` };
  const up = new RegExp(`^${upMetric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(
    await response.text(),
  )?.[1];
  if (up !== '1')
    return {
      ok: false,
      version,
      detail: `${upMetric} is ${up ?? 'missing'}: it cannot reach its service`,
    };
  return { ok: true, version };
}
