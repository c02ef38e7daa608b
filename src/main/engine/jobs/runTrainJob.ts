/**
 * Runs a training job (fitDetector) in a worker thread, so the caller's thread — the app's
 * main process, or the CLI's progress display and Ctrl-C handling — never blocks on training.
 * Progress is streamed; aborting `signal` cancels the job; errors keep their kind
 * (UserError / CancelledError) across the thread boundary.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DetectorConfig, FitInput } from '../detector/fitDetector';
import type { Detector } from '../detector/types';
import { decodeDetector } from '../model/cfdet';
import type { TrainProgress } from '../train/trainer';
import { CancelledError, UserError } from '../util/errors';
import type { FromWorker, ToWorker } from './trainJobProtocol';

export interface TrainJobOptions {
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
  appVersion?: string;
  /** the worker entry; defaults to trainWorker next to this file (.ts from source via tsx, .js when bundled) */
  workerFile?: string;
}

function defaultWorker(): { file: string; workerData?: { tsEntry: string } } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    // running from source (CLI via tsx, tests): a bootstrap registers tsx inside the worker
    // (Node 20 workers do not take loader hooks from --import in execArgv)
    const entry = pathToFileURL(here.replace(/runTrainJob\.ts$/, 'trainWorker.ts')).href;
    return { file: here.replace(/runTrainJob\.ts$/, 'tsWorkerBoot.mjs'), workerData: { tsEntry: entry } };
  }
  return { file: here.replace(/runTrainJob\.[cm]?js$/, 'trainWorker.js') };
}

export function runTrainJob(
  input: FitInput,
  config: DetectorConfig,
  opts: TrainJobOptions = {},
): Promise<Detector> {
  const w = opts.workerFile ? { file: opts.workerFile } : defaultWorker();
  const worker = new Worker(w.file, { workerData: 'workerData' in w ? w.workerData : undefined });
  return new Promise<Detector>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => worker.postMessage({ type: 'cancel' } satisfies ToWorker);
    if (opts.signal?.aborted) {
      finish(() => reject(new CancelledError('training')));
      return;
    }
    opts.signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'done')
        finish(() => resolve(decodeDetector(Buffer.from(m.detector), 'the trained detector')));
      else
        finish(() =>
          reject(
            m.kind === 'user'
              ? new UserError(m.message, m.hint)
              : m.kind === 'cancelled'
                ? new CancelledError(m.message.replace(/ cancelled$/, ''))
                : Object.assign(new Error(m.message), { stack: m.stack }),
          ),
        );
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`training worker exited unexpectedly (code ${code})`))),
    );
    worker.postMessage({
      type: 'start',
      input,
      config,
      appVersion: opts.appVersion ?? '0.0.0',
    } satisfies ToWorker);
  });
}
