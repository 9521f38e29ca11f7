// Where the repository is, found from this file so every entry point agrees.
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
