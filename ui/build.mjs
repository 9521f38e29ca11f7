// `npm run build:ui`, and the `prepare` step of `npm ci`: builds the dashboard into ui/dist.
// A production install (`npm ci --omit=dev`, the Dockerfile's deps stage) has no Vite: it skips,
// and the Dockerfile builds the UI in a stage of its own.
import { existsSync } from 'node:fs';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';

const root = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(nodePath.join(root, 'node_modules', 'vite', 'package.json'))) {
  console.log('ui: Vite is not installed (a production install): the dashboard is not built here');
  process.exit(0);
}
const { build } = await import('vite');
const started = Date.now();
await build({ configFile: nodePath.join(root, 'ui', 'vite.config.ts') });
console.log(`ui: built into ui/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
