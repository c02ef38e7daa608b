/**
 * Runs feature extraction for one dataset in a worker thread (runWorkerJob): progress
 * (done/total, images/s, ETA) streamed, cancellable; results are in the workspace when it ends.
 */
import type { ExtractOptions, ExtractProgress, ExtractResult } from './extractFeatures';
import { runWorkerJob, type WorkerJobOptions } from './runWorkerJob';

export type ExtractJobInput = Omit<ExtractOptions, 'signal' | 'onProgress'> & { workspaceFile: string };

export function runExtractJob(
  input: ExtractJobInput,
  opts: WorkerJobOptions<ExtractProgress> = {},
): Promise<ExtractResult> {
  return runWorkerJob<ExtractJobInput, ExtractProgress, ExtractResult>(
    'extractWorker',
    'feature extraction',
    input,
    opts,
  );
}
