/**
 * Runs one job in a worker thread, so the caller's thread — the app's main process, or the
 * CLI's progress display and Ctrl-C handling — never blocks on long work. Progress is
 * streamed; aborting `signal` asks the worker to stop; errors keep their kind (UserError /
 * CancelledError) across the thread boundary; a worker that dies is an error, never a hang.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError } from '../util/errors';
import { errorFromWire, type FromWorker, type ToWorker } from './jobProtocol';

export interface WorkerJobOptions<P> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
  /** the worker entry file; defaults to `<entry>.ts|.js` next to this file */
  workerFile?: string;
  /** from source: the folder of `<entry>.ts` when it is not this one (bundled, entries sit side by side) */
  sourceDir?: string;
}

/** Where a worker entry lives: .ts from source (via a tsx bootstrap), .js when bundled. */
export function workerLocation(
  entry: string,
  sourceDir?: string,
): { file: string; workerData?: { tsEntry: string } } {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  if (here.endsWith('.ts')) {
    // running from source (CLI via tsx, tests): a bootstrap registers tsx inside the worker
    // (Node 20 workers do not take loader hooks from --import in execArgv)
    const tsEntry = pathToFileURL(path.join(sourceDir ?? dir, `${entry}.ts`)).href;
    return { file: path.join(dir, 'tsWorkerBoot.mjs'), workerData: { tsEntry } };
  }
  return { file: path.join(dir, `${entry}.js`) };
}

/**
 * @param entry  worker module name in this folder, e.g. 'trainWorker'
 * @param what   what the job does, for messages ('training', 'feature extraction')
 */
export function runWorkerJob<I, P, R>(
  entry: string,
  what: string,
  input: I,
  opts: WorkerJobOptions<P> = {},
): Promise<R> {
  const w = opts.workerFile ? { file: opts.workerFile } : workerLocation(entry, opts.sourceDir);
  return new Promise<R>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new CancelledError(what));
      return;
    }
    const worker = new Worker(w.file, { workerData: 'workerData' in w ? w.workerData : undefined });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => worker.postMessage({ type: 'cancel' } satisfies ToWorker<I>);
    opts.signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: FromWorker<P, R>) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'done') finish(() => resolve(m.result));
      else finish(() => reject(errorFromWire(m)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`${what} worker exited unexpectedly (code ${code})`))),
    );
    worker.postMessage({ type: 'start', input } satisfies ToWorker<I>);
  });
}
