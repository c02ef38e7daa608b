/**
 * Messages between a training job's caller and its worker thread (structured-clone plain data).
 * Matrices travel as Float32Arrays (copied); the trained detector comes back as .cfdet bytes.
 */
import type { DetectorConfig, FitInput } from '../detector/fitDetector';
import type { TrainProgress } from '../train/trainer';

export type ToWorker =
  { type: 'start'; input: FitInput; config: DetectorConfig; appVersion: string } | { type: 'cancel' };

export type FromWorker =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; detector: Uint8Array }
  | {
      type: 'error';
      kind: 'user' | 'cancelled' | 'internal';
      message: string;
      hint?: string;
      stack?: string;
    };
