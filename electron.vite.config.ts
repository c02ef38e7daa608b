import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src/shared/csp';

/**
 * Runtime dependencies of the main process that must stay real `import`s at runtime, never bundled:
 * native addons (onnxruntime-node, better-sqlite3, sharp, tfjs-node*) and the big TensorFlow.js
 * packages. Everything in package.json `dependencies` is externalized anyway (electron-vite
 * `externalizeDeps`); this list also covers packages that are optional or added later.
 */
const MAIN_EXTERNALS = [
  'onnxruntime-node',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'better-sqlite3',
  'sharp',
];

const CSP_META = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")[^"]*(")/i;

/** Writes the CSP from src/shared/csp.ts into index.html's <meta> (dev policy under `electron-vite dev`). */
function cspMeta(): Plugin {
  let dev = false;
  return {
    name: 'cfstudio:csp-meta',
    configResolved(config) {
      dev = config.command === 'serve';
    },
    transformIndexHtml(html) {
      if (!CSP_META.test(html)) {
        throw new Error(
          'src/renderer/index.html must keep its <meta http-equiv="Content-Security-Policy"> tag',
        );
      }
      return html.replace(CSP_META, `$1${contentSecurityPolicy({ dev, meta: true })}$2`);
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: { include: MAIN_EXTERNALS },
      rolldownOptions: {
        // the workers are their own entries: runWorkerJob starts out/main/<name>.js next to index.js;
        // cli: the compiled `cfstudio` (bin/cfstudio.mjs without sources, `<app> --cli` when packaged)
        input: {
          index: resolve('src/main/index.ts'),
          cli: resolve('src/main/cli.ts'),
          trainWorker: resolve('src/main/engine/jobs/trainWorker.ts'),
          extractWorker: resolve('src/main/engine/jobs/extractWorker.ts'),
          useCaseWorker: resolve('src/main/engine/studio/useCaseWorker.ts'),
          runViewsWorker: resolve('src/main/engine/studio/runViewsWorker.ts'),
        },
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
        external: [/^@tensorflow\//],
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can only require('electron') (and a few polyfills): bundle everything else.
      externalizeDeps: false,
      rolldownOptions: {
        // previewBridge: window.cfstudio over a WebSocket, for the browser preview (src/main/preview)
        input: {
          index: resolve('src/preload/index.ts'),
          previewBridge: resolve('src/preload/previewBridge.ts'),
        },
        // Sandboxed preloads cannot be ES modules; .cjs because package.json has "type": "module".
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    build: {
      outDir: 'out/renderer',
      rolldownOptions: {
        input: { index: resolve('src/renderer/index.html') },
      },
    },
    plugins: [vue(), cspMeta()],
  },
});
