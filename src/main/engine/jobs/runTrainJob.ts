/**
 * Runs a training job (fitDetector) in a worker thread (runWorkerJob): progress streamed,
 * cancellable, errors keep their kind; the detector comes back as .cfdet bytes and is decoded
 * (and so validated) here.
 */
import type { DetectorConfig, FitInput } from '../detector/fitDetector';
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
  const bytes = await runWorkerJob<TrainJobInput, TrainProgress, Uint8Array>(
    'trainWorker',
    'training',
    { input, config, appVersion: opts.appVersion ?? '0.0.0' },
    opts,
  );
  return decodeDetector(Buffer.from(bytes), 'the trained detector');
}
