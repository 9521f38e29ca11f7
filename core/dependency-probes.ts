// Readiness from real requests: each dependency a process reads or writes is asked something
// small (SELECT 1, a cluster description), with a time limit, and reported with its latency
// and, when down, why. The API's /ready and `continuum seed`'s answer with it.
import type { Admin } from 'kafkajs';
import type pg from 'pg';

export interface DependencyProbe {
  name: string;
  /** Resolves when the dependency answered a real request; throws otherwise. */
  check(): Promise<void>;
}

export interface DependencyStatus {
  name: string;
  ok: boolean;
  latencyMs: number;
  /** Why it is reported down (at most 300 characters). */
  error?: string;
}

/** Every probe at once; ready when every one answered within `timeoutMs`. */
export async function probeDependencies(
  probes: readonly DependencyProbe[],
  timeoutMs: number,
): Promise<{ ready: boolean; dependencies: DependencyStatus[] }> {
  const dependencies = await Promise.all(
    probes.map(async (probe): Promise<DependencyStatus> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe.check(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
        return { name: probe.name, ok: true, latencyMs: round(performance.now() - started) };
      } catch (err) {
        return {
          name: probe.name,
          ok: false,
          latencyMs: round(performance.now() - started),
          error: (err instanceof Error ? err.message : String(err)).slice(0, 300),
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: dependencies.every((d) => d.ok), dependencies };
}

/** Kafka: the cluster described (the admin connected first, again after an outage). */
export function kafkaProbe(admin: Admin): DependencyProbe {
  return {
    name: 'kafka',
    check: async () => {
      await admin.connect();
      await admin.describeCluster();
    },
  };
}

/** The schema registry: its subjects listed. */
export function schemaRegistryProbe(url: string): DependencyProbe {
  return {
    name: 'schema-registry',
    check: async () => {
      const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
      if (!res.ok) throw new Error(`GET /subjects answered ${res.status}`);
    },
  };
}

/** PostgreSQL: SELECT 1 through the process's own pool. */
export function postgresProbe(pool: pg.Pool): DependencyProbe {
  return {
    name: 'postgres',
    check: async () => {
      await pool.query('SELECT 1');
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
