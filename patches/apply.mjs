// Applies our fixes to installed dependencies (npm runs it after every install: "postinstall").
// Each patch replaces one file of one exact dependency version, and only a file whose content is
// the one that version shipped: a different version or file fails the install loudly instead of
// patching blindly. Why each patch exists is written at the top of its file (and in README.md).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const PATCHES = [
  {
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/consumer/filterAbortedMessages.js',
    patch: 'kafkajs@2.2.4/filterAbortedMessages.js',
    originalSha256: '54ce50f2a41ee1686da8b73bf8b502c7dd07c9d7cb0a494cdb36a7fc536ced8e',
  },
];

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

let failed = false;
for (const p of PATCHES) {
  const packageDir = join(root, 'node_modules', p.name);
  if (!existsSync(packageDir)) continue; // not installed (e.g. an --omit that excludes it)
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const target = join(packageDir, p.file);
  const patched = readFileSync(join(here, p.patch), 'utf8');
  const current = readFileSync(target, 'utf8');
  if (current === patched) continue;
  if (version !== p.version || sha256(current) !== p.originalSha256) {
    console.error(
      `patches: ${p.name}@${version} ${p.file} is not the file the patch was written for (${p.name}@${p.version}); review patches/${p.patch} before upgrading`,
    );
    failed = true;
    continue;
  }
  writeFileSync(target, patched);
  console.log(`patches: ${p.name}@${version} ${p.file} patched (patches/${p.patch})`);
}
if (failed) process.exit(1);
