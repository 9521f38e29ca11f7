// Types of patches.mjs for the TypeScript that imports it (the CLI's start-up check).
export interface DependencyPatch {
  /** What goes wrong without it. */
  why: string;
  name: string;
  version: string;
  file: string;
  start?: string;
  end?: string;
  replacement: string;
  originalSha256: string;
  /** Earlier versions of this patch's replacement: an install carrying one is patched again. */
  supersededSha256?: readonly string[];
}

export type PatchState = 'patched' | 'unpatched' | 'different' | 'absent';

export interface PatchStatus {
  patch: DependencyPatch;
  target: string;
  state: PatchState;
  version: string | undefined;
}

export const PROJECT_ROOT: string;
export const PATCHES: readonly DependencyPatch[];
export function sha256(text: string): string;
export function patchStatuses(root?: string): PatchStatus[];
export function patchStatus(patch: DependencyPatch, root?: string): PatchStatus;
