/**
 * Runs a training job (fitDetector) in a worker thread (runWorkerJob): progress streamed,
 * cancellable, errors keep their kind; the detector comes back as .cfdet bytes and is decoded
 * (and so validated) here. Called from a worker thread already, it trains in that thread.
 */
import { isMainThread } from 'node:worker_threads';
import { fitDetector, type DetectorConfig, type FitInput } from '../detector/fitDetector';
import type { Detector } from '../detector/types';
import { decodeDetector } from '../model/cfdet';
import type { TrainProgress } from '../train/trainer';
import { runWorkerJob, type WorkerJobOptions } from './runWorkerJob';

export interface TrainJobInput {
  input: FitInput;
  config: DetectorConfig;
  appVersion: string;
}

export interface TrainJobOptions extends WorkerJobOptions<TrainProgress> {
  appVersion?: string;
}

export async function runTrainJob(
  input: FitInput,
  config: DetectorConfig,
  opts: TrainJobOptions = {},
): Promise<Detector> {
  // already off the main thread (a use case running in a worker): train right here
  if (!isMainThread)
    return fitDetector(input, config, {
      signal: opts.signal,
      onProgress: opts.onProgress,
      appVersion: opts.appVersion ?? '0.0.0',
    });
  const bytes = await runWorkerJob<TrainJobInput, TrainProgress, Uint8Array>(
    'trainWorker',
    'training',
    { input, config, appVersion: opts.appVersion ?? '0.0.0' },
    opts,
  );
  return decodeDetector(Buffer.from(bytes), 'the trained detector');
}
