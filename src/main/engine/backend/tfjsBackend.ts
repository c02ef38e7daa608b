/**
 * Chooses the TensorFlow.js backend: tfjs-node-gpu → tfjs-node → wasm (→ cpu as a last
 * resort), trying each and keeping the reason a candidate failed. The native packages are
 * optional dependencies that need a download at install time; the project works without them.
 * `CFSTUDIO_BACKEND` (tensorflow | wasm | cpu) forces a choice.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface BackendAttempt {
  name: string;
  ok: boolean;
  reason?: string;
}

export interface BackendInfo {
  /** the tfjs backend that runs: 'tensorflow' (native), 'wasm' or 'cpu' */
  backend: string;
  /** the package that provided it */
  package: string;
  threads: number;
  attempts: BackendAttempt[];
  tfjsVersion: string;
}

let chosen: Promise<BackendInfo> | null = null;

// not named `require`: the bundler's ESM shim declares a `require` of its own in the same chunk
const requireHere = createRequire(import.meta.url);

function message(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return 'not installed (optional: its install step downloads libtensorflow, which needs internet)';
  }
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].slice(0, 300);
}

async function tryNative(pkg: string): Promise<void> {
  await import(/* @vite-ignore */ pkg);
  if (!(await tf.setBackend('tensorflow'))) throw new Error('backend "tensorflow" did not initialize');
}

async function tryWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dir + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('backend "wasm" did not initialize');
}

async function choose(): Promise<BackendInfo> {
  const forced = process.env.CFSTUDIO_BACKEND;
  const candidates: { name: string; pkg: string; load: () => Promise<void> }[] = [
    {
      name: 'tensorflow',
      pkg: '@tensorflow/tfjs-node-gpu',
      load: () => tryNative('@tensorflow/tfjs-node-gpu'),
    },
    { name: 'tensorflow', pkg: '@tensorflow/tfjs-node', load: () => tryNative('@tensorflow/tfjs-node') },
    { name: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', load: tryWasm },
    {
      name: 'cpu',
      pkg: '@tensorflow/tfjs',
      load: async () => {
        if (!(await tf.setBackend('cpu'))) throw new Error('backend "cpu" did not initialize');
      },
    },
  ];
  const attempts: BackendAttempt[] = [];
  for (const c of candidates) {
    if (forced && forced !== c.name) {
      attempts.push({ name: c.pkg, ok: false, reason: `skipped: CFSTUDIO_BACKEND=${forced}` });
      continue;
    }
    try {
      await c.load();
      await tf.ready();
      attempts.push({ name: c.pkg, ok: true });
      const threads =
        c.name === 'wasm'
          ? // the wasm backend runs single-threaded in Node (PERF_NOTES)
            1
          : 0;
      return { backend: tf.getBackend(), package: c.pkg, threads, attempts, tfjsVersion: tf.version.tfjs };
    } catch (e) {
      attempts.push({ name: c.pkg, ok: false, reason: message(e) });
    }
  }
  throw new Error(
    `no TensorFlow.js backend could start: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`,
  );
}

/** Initializes (once) and returns the backend in use and why others were not used. */
export function initTfjs(): Promise<BackendInfo> {
  if (!chosen) chosen = choose();
  return chosen;
}

export { tf };
