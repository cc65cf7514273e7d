// Builds the management web UI into web/dist, which the management server
// serves at / (src/api/web-ui.ts). `npm run build:web`; the browser tests
// build it themselves first (test/browser/global-setup.ts).
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [preact()],
  // Everything ships from our own server: no CDN, no external font.
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npx vite --config web/vite.config.ts` against a server on 7071 (HTTPS with its own CA).
    proxy: { '/api': { target: 'https://127.0.0.1:7071', secure: false, ws: true } },
  },
});
