import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer: loaded from file:// in Electron and over http by the browser harness, hence base './'.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    // Keep everything as files: the CSP allows no inline script or style, and no data: scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'chrome120',
    sourcemap: true,
  },
  server: { host: '127.0.0.1' },
});
