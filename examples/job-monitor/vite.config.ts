import { defineConfig } from 'vite';

// No framework plugin: esbuild compiles the TSX (React's automatic runtime); the built app is
// plain files any static server can serve (serve.mjs, or a CDN in front of the gateway).
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 1000 },
});
