// The Kafka clients run with our patches (patches/), or not at all: without them read_committed
// consumers can read aborted records. npm applies them after every install ("postinstall"); an
// install with --ignore-scripts skips that, so every process checks before its first client.
import { patchStatuses, type PatchStatus } from '../patches/patches.mjs';
import { ContinuumError } from './errors.ts';

export class UnpatchedDependencyError extends ContinuumError {
  override readonly code = 'DEPENDENCY_UNPATCHED';

  constructor(problems: readonly PatchStatus[]) {
    const lines = problems.map(({ patch, state, version }) =>
      state === 'unpatched'
        ? `  ${patch.name}@${version} ${patch.file} lacks our patch (without it ${patch.why})`
        : `  ${patch.name}@${version ?? '?'} ${patch.file} is not what patches/${patch.replacement} was written for (${patch.name}@${patch.version})`,
    );
    const fix = problems.every((p) => p.state === 'unpatched')
      ? 'The install skipped its postinstall script (npm ci --ignore-scripts?). Fix: `node patches/apply.mjs`, or `npm ci` without --ignore-scripts.'
      : 'Another version is installed than the one the patch was written for. Fix: `npm ci` (package-lock.json pins it); to upgrade, review and rewrite the patch first.';
    super(`the installed Kafka clients lack Continuum's patches:\n${lines.join('\n')}\n${fix}`, {
      context: { files: problems.map((p) => p.target) },
    });
  }
}

/** Throws UnpatchedDependencyError if a patched dependency is installed without its patch. */
export function checkDependencyPatches(statuses: readonly PatchStatus[]): void {
  const problems = statuses.filter((s) => s.state === 'unpatched' || s.state === 'different');
  if (problems.length > 0) throw new UnpatchedDependencyError(problems);
}

let verified = false;

/** checkDependencyPatches on this installation, once per process (it reads four files). */
export function assertDependenciesPatched(): void {
  if (verified) return;
  checkDependencyPatches(patchStatuses());
  verified = true;
}
