// Applies our fixes to installed dependencies (npm runs it after every install: "postinstall").
// What each patch replaces, and the checks, are in patches.mjs: a patch is applied only where
// the installed file is what that dependency version shipped; another version or content fails
// the install loudly instead of patching blindly.
import { writeFileSync } from 'node:fs';
import { PATCHES, patchStatus } from './patches.mjs';

let failed = false;
// Each patch's status is read just before it is applied: two patches of one file (different
// methods) must each see the file as the other left it.
for (const entry of PATCHES) {
  const { patch, target, state, version, text, replacement, at } = patchStatus(entry);
  if (state === 'absent' || state === 'patched') continue; // absent: e.g. an --omit excludes it
  if (state === 'different') {
    console.error(
      `patches: ${patch.name}@${version} ${patch.file} is not what patches/${patch.replacement} was written for (${patch.name}@${patch.version}); review the patch before upgrading`,
    );
    failed = true;
    continue;
  }
  writeFileSync(target, text.slice(0, at.from) + replacement + text.slice(at.to));
  console.log(
    `patches: ${patch.name}@${version} ${patch.file} patched (patches/${patch.replacement})`,
  );
}
if (failed) process.exit(1);
