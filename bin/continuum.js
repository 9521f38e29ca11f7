#!/usr/bin/env node
// Entry of the `continuum` CLI. The sources are TypeScript run directly by Node 24's type
// stripping; an older `node` on PATH gets told how to reach the project's Node 24.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `continuum needs Node 24 (this is Node ${process.versions.node}).\n` +
      "Run it through npm, which puts the project's Node 24 first on PATH: `npx continuum …` or `npm start`,\n" +
      'or call it directly: `node_modules/.bin/node bin/continuum.js …` (after `npm ci`).\n',
  );
  process.exit(4);
}
await import('../cli/main.ts');
