// Vite builds the dashboard into ui/dist, which the API serves at `/` (api/plugins/ui-static.ts).
// JSX is compiled by Vite's own transform (React's automatic runtime): no plugin needed.
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = nodePath.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: nodePath.join(here, 'dist'),
    emptyOutDir: true,
    // maplibre-gl alone is ~800 kB minified; one chunk per page is not worth the requests here.
    chunkSizeWarningLimit: 2_000,
  },
  server: {
    // `npx vite --config ui/vite.config.ts` during UI work: the API on its default port.
    proxy: { '/v1': 'http://127.0.0.1:8080', '/docs': 'http://127.0.0.1:8080' },
  },
});
