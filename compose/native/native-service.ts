// The contract every native stack service implements: install (cached downloads), prepare
// (its state folder), launch (a detached process), probe (a real request that proves it serves).
import nodePath from 'node:path';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
// The stack starts exporters too: its services are named by StackServiceName.
import type { StackServiceName as ServiceName } from '../../core/services.ts';
import type { LaunchSpec, ServicePaths } from './process-supervisor.ts';

export interface StackContext {
  config: Config;
  log: Logger;
  /** Reports what a long step is doing, shown on the progress display. */
  report: (service: ServiceName, detail: string) => void;
}

export interface ProbeResult {
  ok: boolean;
  version?: string;
  detail?: string;
}

export interface NativeService {
  name: ServiceName;
  /** Services that must be ready before this one starts. */
  dependsOn: readonly ServiceName[];
  url(config: Config): string;
  /** Makes the binaries available; idempotent; downloads are cached under config.cacheDir. */
  install(ctx: StackContext): Promise<void>;
  /** Writes configuration and initializes data under the service's state folder. */
  prepare(ctx: StackContext): Promise<void>;
  launch(ctx: StackContext): LaunchSpec | Promise<LaunchSpec>;
  probe(ctx: StackContext): Promise<ProbeResult>;
  /** One-time work once ready (roles, databases, topics); must be idempotent. */
  afterReady?(ctx: StackContext): Promise<void>;
  /**
   * Brings a running service of ours (`pid`) up to what this stack adds to it (e.g. the broker's
   * metrics agent) when `up` reuses it; must be idempotent. A failure is reported, not fatal.
   */
  whenReused?(ctx: StackContext, pid: number): Promise<void>;
}

export function servicePaths(
  config: Config,
  name: ServiceName,
): ServicePaths & { dataDir: string } {
  const dir = nodePath.join(config.stateDir, name);
  return {
    dir,
    pidFile: nodePath.join(dir, 'pid'),
    logFile: nodePath.join(dir, 'service.log'),
    dataDir: nodePath.join(dir, 'data'),
  };
}

export function cachePath(config: Config, ...parts: string[]): string {
  return nodePath.join(config.cacheDir, ...parts);
}

/** Aborts a probe request that hangs, so a wedged service reads as "not ready" instead of blocking. */
export async function probeFetch(url: string, timeoutMs = 3_000): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
}
